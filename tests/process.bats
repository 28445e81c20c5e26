#!/usr/bin/env bats
# The container process's attributes: user and groups, umask, capabilities,
# noNewPrivileges, rlimits, oomScoreAdj, hostname/domainname, sysctl,
# personality, ioPriority, scheduler, execCPUAffinity, cwd, args[0] lookup;
# and the error for each bad value (nothing may be left behind).

load helpers
bats_require_minimum_version 1.5.0

# kist_out ARGS...: like `run kist ARGS...`, but kist's stdio is a file: a
# created container's init keeps the stdio it was given until its process
# exits, so a pipe (what `run` reads) would never close.
kist_out() {
  local out=$BATS_TEST_TMPDIR/kist.out rc=0
  kist "$@" >"$out" 2>&1 </dev/null || rc=$?
  run bash -c 'cat "$1"; exit "$2"' _ "$out" "$rc"
}

setup() {
  setup_bundle true
  ID=kp$BATS_TEST_NUMBER-$$
}

teardown() {
  common_teardown
}

# run_in_container SH_SCRIPT: runs it with `sh -c` through `kist run`.
run_in_container() {
  set_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
  run kist run --bundle "$BUNDLE" "$ID"
}

# fails_at_create MESSAGE: create must fail naming MESSAGE and leave nothing.
fails_at_create() {
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "$1"
  assert_root_empty
  run kist state "$ID"
  assert_failure
}

@test "process: user uid, gid and additionalGids" {
  set_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [5, 7]}'
  run_in_container 'id -u; id -g; id -G; grep -E "^(Uid|Gid|Groups):" /proc/self/status'
  assert_success
  assert_line --index 0 1000
  assert_line --index 1 1001
  assert_line --index 2 "1001 5 7"
  assert_line --regexp '^Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$'
  assert_line --regexp '^Gid:[[:space:]]+1001[[:space:]]+1001[[:space:]]+1001[[:space:]]+1001$'
  assert_line --regexp '^Groups:[[:space:]]+5 7 ?$'
}

@test "process: no additionalGids means no supplementary groups" {
  set_config '.process.user = {uid: 0, gid: 0}'
  run_in_container 'grep "^Groups:" /proc/self/status'
  assert_success
  assert_output --regexp '^Groups:[[:space:]]*$'
}

@test "process: umask" {
  set_config '.process.user.umask = 63'
  run_in_container 'umask; touch /tmp/f; stat -c %a /tmp/f'
  assert_success
  assert_line --index 0 0077
  assert_line --index 1 600
}

@test "process: capabilities of a non-root user: ambient carries them over exec" {
  set_config '.process.user = {uid: 1000, gid: 1000}
    | .process.noNewPrivileges = false
    | .process.capabilities = {bounding: ["CAP_KILL", "CAP_CHOWN"], permitted: ["CAP_KILL"],
        effective: ["CAP_KILL"], inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]}'
  run_in_container 'grep ^Cap /proc/self/status'
  assert_success
  assert_line --regexp '^CapInh:[[:space:]]+0000000000000020$'
  assert_line --regexp '^CapPrm:[[:space:]]+0000000000000020$'
  assert_line --regexp '^CapEff:[[:space:]]+0000000000000020$'
  assert_line --regexp '^CapBnd:[[:space:]]+0000000000000021$'
  assert_line --regexp '^CapAmb:[[:space:]]+0000000000000020$'
}

@test "process: capabilities of a non-root user without ambient are gone after exec" {
  set_config '.process.user = {uid: 1000, gid: 1000}
    | .process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"],
        effective: ["CAP_KILL"]}'
  run_in_container 'grep ^Cap /proc/self/status'
  assert_success
  assert_line --regexp '^CapEff:[[:space:]]+0000000000000000$'
  assert_line --regexp '^CapBnd:[[:space:]]+0000000000000020$'
}

@test "process: root without noNewPrivileges gets the bounding set at exec (kernel rule)" {
  set_config '.process.noNewPrivileges = false
    | .process.capabilities = {bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
      permitted: ["CAP_CHOWN"], effective: ["CAP_CHOWN"]}'
  run_in_container 'grep ^Cap /proc/self/status'
  assert_success
  assert_line --regexp '^CapBnd:[[:space:]]+0000000000002021$'
  assert_line --regexp '^CapPrm:[[:space:]]+0000000000002021$'
  assert_line --regexp '^CapEff:[[:space:]]+0000000000002021$'
  assert_line --regexp '^CapAmb:[[:space:]]+0000000000000000$'
  assert_line --regexp '^CapInh:[[:space:]]+0000000000000000$'
}

@test "process: root with noNewPrivileges keeps exactly the permitted set" {
  set_config '.process.noNewPrivileges = true
    | .process.capabilities = {bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
      permitted: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_CHOWN"], inheritable: ["CAP_KILL"]}'
  run_in_container 'grep ^Cap /proc/self/status'
  assert_success
  assert_line --regexp '^CapBnd:[[:space:]]+0000000000002021$'
  assert_line --regexp '^CapPrm:[[:space:]]+0000000000000021$'
  assert_line --regexp '^CapEff:[[:space:]]+0000000000000021$'
  assert_line --regexp '^CapInh:[[:space:]]+0000000000000020$'
}

@test "process: no capabilities object drops every capability" {
  set_config 'del(.process.capabilities)'
  run_in_container 'grep ^Cap /proc/self/status'
  assert_success
  for set in Inh Prm Eff Bnd Amb; do
    assert_line --regexp "^Cap$set:[[:space:]]+0000000000000000\$"
  done
}

@test "process: noNewPrivileges" {
  set_config '.process.noNewPrivileges = true'
  run_in_container 'grep ^NoNewPrivs: /proc/self/status'
  assert_success
  assert_output --regexp '^NoNewPrivs:[[:space:]]+1$'
  set_config '.process.noNewPrivileges = false'
  run_in_container 'grep ^NoNewPrivs: /proc/self/status'
  assert_success
  assert_output --regexp '^NoNewPrivs:[[:space:]]+0$'
}

@test "process: rlimits" {
  set_config '.process.rlimits = [
      {type: "RLIMIT_NOFILE", soft: 100, hard: 200},
      {type: "RLIMIT_CORE", soft: 1000, hard: 2000},
      {type: "RLIMIT_NPROC", soft: 300, hard: 400},
      {type: "RLIMIT_MSGQUEUE", soft: 4096, hard: 8192},
      {type: "RLIMIT_STACK", soft: 8388608, hard: 16777216}]'
  run_in_container 'cat /proc/self/limits'
  assert_success
  assert_line --regexp '^Max open files +100 +200 +files'
  assert_line --regexp '^Max core file size +1000 +2000 +bytes'
  assert_line --regexp '^Max processes +300 +400 +processes'
  assert_line --regexp '^Max msgqueue size +4096 +8192 +bytes'
  assert_line --regexp '^Max stack size +8388608 +16777216 +bytes'
}

@test "process: oomScoreAdj" {
  set_config '.process.oomScoreAdj = 500'
  run_in_container 'cat /proc/self/oom_score_adj'
  assert_success
  assert_output 500
}

@test "process: hostname and domainname" {
  set_config '.hostname = "box" | .domainname = "example.org"'
  run_in_container 'hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname'
  assert_success
  assert_output "box
box
example.org"
}

@test "process: hostname without a uts namespace is refused" {
  set_config '.hostname = "box" | .linux.namespaces |= map(select(.type != "uts"))'
  fails_at_create "hostname: needs a uts namespace"
}

@test "process: sysctl in the container's ipc and net namespaces, not the host's" {
  host_shmmax=$(cat /proc/sys/kernel/shmmax)
  host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  [ "$host_shmmax" != 123456789 ]
  set_config '.linux.sysctl = {"kernel.shmmax": "123456789", "net.ipv4.ip_forward": "1",
      "net/ipv4/conf/all/accept_redirects": "0"}'
  run_in_container 'cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/accept_redirects'
  assert_success
  assert_output "123456789
1
0"
  [ "$(cat /proc/sys/kernel/shmmax)" = "$host_shmmax" ]
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
}

@test "process: /proc/sys stays read-only for the process after sysctl" {
  set_config '.linux.sysctl = {"kernel.shmmax": "123456789"}'
  run_in_container 'echo 1 > /proc/sys/kernel/shmmax'
  assert_failure
  assert_output --partial "Read-only file system"
}

@test "process: a sysctl that is not namespaced is refused, naming the key" {
  set_config '.linux.sysctl = {"kernel.shmmax": "1", "vm.swappiness": "10"}'
  fails_at_create "linux.sysctl.vm.swappiness: not isolated by a namespace"
}

@test "process: a net sysctl without a net namespace is refused" {
  set_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}
    | .linux.namespaces |= map(select(.type != "network"))'
  fails_at_create "linux.sysctl.net.ipv4.ip_forward: needs a network namespace"
}

@test "process: an ipc sysctl without an ipc namespace is refused" {
  set_config '.linux.sysctl = {"kernel.shmmax": "1"}
    | .linux.namespaces |= map(select(.type != "ipc"))'
  fails_at_create "linux.sysctl.kernel.shmmax: needs an ipc namespace"
}

@test "process: personality LINUX32" {
  set_config '.linux.personality = {domain: "LINUX32"}'
  run_in_container 'uname -m'
  assert_success
  assert_output i686
}

@test "process: ioPriority" {
  set_config '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}'
  run_in_container 'ionice'
  assert_success
  assert_output "best-effort: prio 6"
  set_config '.process.ioPriority = {class: "IOPRIO_CLASS_IDLE"}'
  run_in_container 'ionice'
  assert_success
  assert_output idle
}

@test "process: scheduler policy and nice" {
  # /proc/self/stat: field 19 is nice, 41 the policy (SCHED_BATCH = 3, SCHED_IDLE = 5).
  set_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 5}'
  run_in_container 'cut -d" " -f19,41 /proc/self/stat'
  assert_success
  assert_output "5 3"
  set_config '.process.scheduler = {policy: "SCHED_IDLE"}'
  run_in_container 'cut -d" " -f41 /proc/self/stat'
  assert_success
  assert_output 5
}

@test "process: execCPUAffinity final" {
  [ "$(nproc)" -ge 2 ] || skip "needs 2 cpus"
  set_config '.process.execCPUAffinity = {initial: "0", final: "1"}'
  run_in_container 'grep ^Cpus_allowed_list: /proc/self/status'
  assert_success
  assert_output --regexp '^Cpus_allowed_list:[[:space:]]+1$'
}

@test "process: cwd" {
  set_config '.process.cwd = "/tmp"'
  run_in_container 'pwd'
  assert_success
  assert_output /tmp
}

@test "process: a relative args[0] resolves from cwd" {
  printf '#!/bin/sh\necho from-cwd\n' >"$BUNDLE/rootfs/tmp/tool"
  chmod 755 "$BUNDLE/rootfs/tmp/tool"
  set_config '.process.cwd = "/tmp" | .process.args = ["./tool"]'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_output from-cwd
}

@test "process: args[0] is looked up in process.env's PATH" {
  mkdir -p "$BUNDLE/rootfs/opt/bin"
  printf '#!/bin/sh\necho from-opt\n' >"$BUNDLE/rootfs/opt/bin/tool"
  chmod 755 "$BUNDLE/rootfs/opt/bin/tool"
  set_config '.process.env = ["PATH=/nope:/opt/bin:/bin"] | .process.args = ["tool"]'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_output from-opt
}

@test "process: args[0] not in PATH exits 127 naming it" {
  set_config '.process.args = ["no-such-tool"]'
  run -127 kist run --bundle "$BUNDLE" "$ID"
  assert_failure 127
  assert_output --partial 'process.args[0]: executable file `no-such-tool` not found in $PATH'
  assert_root_empty
}

@test "process: args[0] the process user may not execute exits 126" {
  printf '#!/bin/sh\necho hi\n' >"$BUNDLE/rootfs/bin/root-only"
  chmod 700 "$BUNDLE/rootfs/bin/root-only"
  set_config '.process.user = {uid: 1000, gid: 1000} | .process.args = ["root-only"]'
  run -126 kist run --bundle "$BUNDLE" "$ID"
  assert_failure 126
  assert_output --partial "process.args[0]: /bin/root-only: Permission denied"
  assert_root_empty
}

@test "process: user, groups, caps, oomScoreAdj and sysctl inside a new user namespace" {
  # The namespace's root (host uid 100000) must reach the bundle.
  local d=$BUNDLE
  while [ "$d" != / ] && [ "$d" != /tmp ]; do
    chmod a+x "$d"
    d=$(dirname "$d")
  done
  set_config '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | del(.linux.resources)
    | .mounts |= map(select(.type != "sysfs" and .type != "cgroup"))
    | .linux.sysctl = {"kernel.shmmax": "99999"}
    | .process.oomScoreAdj = 300
    | .process.user = {uid: 1000, gid: 1000, additionalGids: [5]}
    | .process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"],
        inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"], effective: ["CAP_KILL"]}'
  run_in_container 'id -u; id -G; grep -E "^Cap(Eff|Bnd|Amb)" /proc/self/status; cat /proc/sys/kernel/shmmax /proc/self/oom_score_adj; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 1000
  assert_line --index 1 "1000 5"
  assert_line --regexp '^CapEff:[[:space:]]+0000000000000020$'
  assert_line --regexp '^CapBnd:[[:space:]]+0000000000000020$'
  assert_line --regexp '^CapAmb:[[:space:]]+0000000000000020$'
  assert_line 99999
  assert_line 300
  assert_line --regexp '^ +0 +100000 +65536$'
}

@test "process: a uid outside linux.uidMappings is refused" {
  set_config '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1000}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1000}]
    | .process.user = {uid: 1000, gid: 0}'
  fails_at_create "process.user.uid: 1000 is not mapped by linux.uidMappings"
}

# ---- errors ----

@test "process: unknown capability" {
  set_config '.process.capabilities.bounding += ["CAP_FOO"]'
  fails_at_create "process.capabilities.bounding[3]: unknown capability CAP_FOO"
}

@test "process: ambient capability not in permitted+inheritable" {
  set_config '.process.capabilities.ambient = ["CAP_KILL"]'
  fails_at_create "process.capabilities.ambient[0]: CAP_KILL must also be listed in permitted and inheritable"
}

@test "process: unknown rlimit" {
  set_config '.process.rlimits += [{type: "RLIMIT_FOO", soft: 1, hard: 1}]'
  fails_at_create "process.rlimits[1].type: unknown rlimit RLIMIT_FOO"
}

@test "process: rlimit soft above hard" {
  set_config '.process.rlimits = [{type: "RLIMIT_CORE", soft: 10, hard: 5}]'
  fails_at_create "process.rlimits[0]: RLIMIT_CORE: soft limit 10 is above the hard limit 5"
}

@test "process: raising RLIMIT_NOFILE above the hard limit names the limit" {
  hard=$(ulimit -Hn)
  [ "$hard" != unlimited ] && [ "$hard" -lt 1048576 ] || skip "hard nofile limit is $hard"
  eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  if (((16#$eff >> 24) & 1)); then
    skip "we have CAP_SYS_RESOURCE"
  fi
  set_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1024, hard: 1048576}]'
  fails_at_create "process.rlimits[0]: RLIMIT_NOFILE: cannot raise hard limit to 1048576 above the current $hard (no CAP_SYS_RESOURCE); lower it in config.json (Podman/Docker: --ulimit nofile=$hard:$hard) or raise the caller's hard limit"
}

@test "process: missing cwd" {
  set_config '.process.cwd = "/nope"'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "process.cwd: /nope: No such file or directory"
  assert_root_empty
}

@test "process: cwd that is a file" {
  set_config '.process.cwd = "/etc/passwd"'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "process.cwd: /etc/passwd: Not a directory"
  assert_root_empty
}

@test "process: relative cwd" {
  set_config '.process.cwd = "tmp"'
  fails_at_create "process.cwd: 'tmp' is not an absolute path"
}

@test "process: oomScoreAdj out of range" {
  set_config '.process.oomScoreAdj = 1001'
  fails_at_create "process.oomScoreAdj: 1001 is outside -1000..1000"
}

@test "process: SCHED_FIFO without a priority" {
  set_config '.process.scheduler = {policy: "SCHED_FIFO"}'
  fails_at_create "process.scheduler.priority: SCHED_FIFO needs a priority from 1 to 99"
}

@test "process: selinuxLabel on a host without SELinux" {
  [ -d /sys/fs/selinux ] && skip "SELinux is enabled here"
  set_config '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
  fails_at_create "process.selinuxLabel: SELinux is not enabled on this host"
}

@test "process: mountLabel on a host without SELinux" {
  [ -d /sys/fs/selinux ] && skip "SELinux is enabled here"
  set_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  fails_at_create "linux.mountLabel: SELinux is not enabled on this host"
}

@test "process: apparmorProfile on a host without AppArmor" {
  [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && skip "AppArmor is enabled here"
  set_config '.process.apparmorProfile = "kist-default"'
  fails_at_create "process.apparmorProfile: AppArmor is not enabled on this host"
}
