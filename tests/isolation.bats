#!/usr/bin/env bats
# The basic isolation the lifecycle sets up: namespaces, hostname, PID 1,
# rootfs, mounts, /dev, masked and read-only paths.

load helpers

setup() {
  setup_bundle true
  ID=ki$BATS_TEST_NUMBER-$$
}

teardown() {
  # Host mounts a test made (shared volumes, submounts), innermost first.
  local m
  for m in "${HOST_MOUNTS[@]}"; do
    umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  common_teardown
}

HOST_MOUNTS=()

# host_shared DIR: DIR becomes a mount point of its own with shared
# propagation on the host (the host's / may be private), unmounted in teardown.
host_shared() {
  mkdir -p "$1"
  mount --bind "$1" "$1"
  HOST_MOUNTS=("$1" "${HOST_MOUNTS[@]}")
  mount --make-shared "$1"
}

# host_tmpfs DIR: a host tmpfs on DIR, unmounted in teardown.
host_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o size=1m kisttest "$1"
  HOST_MOUNTS=("$1" "${HOST_MOUNTS[@]}")
}

# start_detached [ID]: run -d $BUNDLE (stdio to a file: the init keeps it).
start_detached() {
  local id=${1:-$ID}
  if ! kist run -d --bundle "$BUNDLE" "$id" >"$BATS_TEST_TMPDIR/run-$id.out" 2>&1 </dev/null; then
    cat "$BATS_TEST_TMPDIR/run-$id.out" >&2
    return 1
  fi
}

# userns_config: a user namespace mapping 0..65535 to 100000.. on the host.
userns_config() {
  # The mapped root must be able to reach the bundle (mktemp dirs are 0700).
  chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
  set_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
}

# add_mount DEST SOURCE OPTIONS_JSON [EXTRA_JSON]: a bind mount appended to .mounts.
add_mount() {
  set_config ".mounts += [{\"destination\": \$d, \"type\": \"bind\", \"source\": \$s, \"options\": $3} + ${4:-{\}}]" --arg d "$1" --arg s "$2"
}

# in_container CMD...: runs sh -c "CMD" in a fresh container; sets $output/$status.
in_container() {
  set_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg c "$*" '$c')]"
  run kist run --bundle "$BUNDLE" "$ID"
}

@test "every configured namespace differs from the host's" {
  in_container 'for n in pid net ipc uts mnt cgroup; do echo "$n $(readlink /proc/self/ns/$n)"; done'
  assert_success
  for n in pid net ipc uts mnt cgroup; do
    inside=$(awk -v n="$n" '$1 == n {print $2}' <<<"$output")
    [ -n "$inside" ]
    [ "$inside" != "$(readlink /proc/self/ns/$n)" ]
  done
}

@test "a namespace not in the config is the host's" {
  set_config 'del(.linux.namespaces[] | select(.type == "network"))'
  in_container 'readlink /proc/self/ns/net'
  assert_success
  assert_output "$(readlink /proc/self/ns/net)"
}

@test "hostname is the config's" {
  set_config '.hostname = "kist-box"'
  in_container 'hostname'
  assert_success
  assert_output kist-box
}

@test "the process is PID 1 of its pid namespace" {
  in_container 'echo $$'
  assert_success
  assert_output 1
}

@test "the root is the bundle's rootfs and the host is out of reach" {
  echo marker >"$BUNDLE/rootfs/marker"
  in_container 'cat /marker; ls /work 2>&1 || true'
  assert_success
  assert_line marker
  assert_line --partial "No such file"
}

@test "root.readonly makes / read-only" {
  set_config '.root.readonly = true'
  in_container 'touch /x'
  assert_failure
  assert_output --partial "Read-only"
  [ ! -e "$BUNDLE/rootfs/x" ]
}

@test "--no-pivot works too" {
  set_config '.process.args = ["cat", "/etc/hostname"]'
  run kist run --no-pivot --bundle "$BUNDLE" "$ID"
  assert_success
  assert_output kist
}

@test "/dev: default devices, symlinks and pts" {
  in_container 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | cut -c1; for l in ptmx fd stdin; do readlink /dev/$l; done; [ -d /dev/pts ] && echo pts; echo x > /dev/null && echo writes'
  assert_success
  [ "$(grep -c '^c$' <<<"$output")" -eq 6 ]
  assert_line pts/ptmx
  assert_line /proc/self/fd
  assert_line /proc/self/fd/0
  assert_line pts
  assert_line writes
}

@test "linux.devices are created with their numbers and mode" {
  set_config '.linux.devices = [{"path": "/dev/kisttest", "type": "c", "major": 1, "minor": 3, "fileMode": 432}]'
  set_config '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
  in_container 'stat -c "%t:%T %a %F" /dev/kisttest'
  assert_success
  assert_output "1:3 660 character special file"
}

@test "maskedPaths and readonlyPaths" {
  # A file (/proc/timer_list, /proc/keys) reads empty, a directory is empty,
  # a path that does not exist is skipped.
  set_config '.linux.maskedPaths = ["/proc/timer_list", "/proc/keys", "/sys/firmware", "/proc/nonexistent"]'
  in_container 'cat /proc/timer_list /proc/keys | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid 2>&1 || echo ro'
  assert_success
  assert_line --index 0 0
  assert_line --index 1 0
  assert_line --partial ro
}

@test "bind mounts: ro is enforced, the source is visible" {
  mkdir -p "$BATS_TEST_TMPDIR/shared"
  echo hello >"$BATS_TEST_TMPDIR/shared/file"
  set_config ".mounts += [{\"destination\": \"/data/in\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/shared\", \"options\": [\"rbind\", \"ro\"]}]"
  in_container 'cat /data/in/file; touch /data/in/new'
  assert_failure
  assert_line hello
  assert_output --partial "Read-only"
  [ ! -e "$BATS_TEST_TMPDIR/shared/new" ]
}

@test "mount destinations resolve inside the rootfs, never through a symlink to the host" {
  name=kist-escape-$$
  ln -s /tmp "$BUNDLE/rootfs/escape"
  set_config ".mounts += [{\"destination\": \"/escape/$name\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
  in_container "grep -c ' /tmp/$name ' /proc/self/mountinfo"
  assert_success
  assert_output 1
  [ ! -e "/tmp/$name" ]
  [ -d "$BUNDLE/rootfs/tmp/$name" ]
}

@test "the host mount table is unchanged by a container" {
  before=$(wc -l </proc/self/mountinfo)
  in_container 'mount | wc -l'
  assert_success
  [ "$(wc -l </proc/self/mountinfo)" -eq "$before" ]
  ! grep -F "$BUNDLE" /proc/self/mountinfo
}

@test "/sys/fs/cgroup shows the container's own cgroup" {
  in_container 'cat /proc/self/cgroup; ls /sys/fs/cgroup'
  assert_success
  # In its cgroup namespace the container is at the root of every hierarchy.
  run grep -v ':/$' <<<"$(grep -E '^[0-9]+:' <<<"$output")"
  assert_output ""
}

# On v1 kist shows the container the host's /sys/fs/cgroup tmpfs (a clone,
# made read-only and private) rather than building a tmpfs of its own.
@test "/sys/fs/cgroup (v1, ro): a read-only private view with the container's hierarchies" {
  [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] || skip "no v1 tmpfs at /sys/fs/cgroup here (pure v2 runs in the VM lane)"
  [ "$(id -u)" = 0 ] || skip "rootless: the container is in a user namespace, where kist builds the view itself (the user-namespace test covers it)"
  in_container 'grep " /sys/fs/cgroup " /proc/self/mountinfo; mkdir /sys/fs/cgroup/kist-probe 2>&1; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
  assert_success
  assert_line --index 0 --regexp ' /sys/fs/cgroup ro,nosuid,nodev,noexec[, ]'
  host_dev=$(awk '$5 == "/sys/fs/cgroup" { print $3 }' /proc/self/mountinfo)
  assert_line --index 0 --partial " $host_dev / /sys/fs/cgroup "
  refute_line --index 0 --regexp 'shared:|master:'
  assert_line --index 1 --partial "Read-only file system"
  assert_line --index 2 --regexp '^[0-9]+$'
  [ ! -e /sys/fs/cgroup/kist-probe ]
}

@test "/sys/fs/cgroup (v1, rw): the container's own tmpfs; writes never reach the host" {
  [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] || skip "no v1 tmpfs at /sys/fs/cgroup here (pure v2 runs in the VM lane)"
  [ "$(id -u)" = 0 ] || skip "rootless: no v1 cgroup of its own to show (the user-namespace test covers the view)"
  set_config '.mounts = [.mounts[] | if .type == "cgroup" then .options -= ["ro"] else . end]'
  in_container "mkdir /sys/fs/cgroup/kist-probe-$ID && ls -d /sys/fs/cgroup/kist-probe-$ID && cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
  assert_success
  assert_line --index 0 "/sys/fs/cgroup/kist-probe-$ID"
  assert_line --index 1 --regexp '^[0-9]+$'
  [ ! -e "/sys/fs/cgroup/kist-probe-$ID" ]
}

@test "a user namespace maps root to an unprivileged host uid" {
  # The mapped root must be able to reach the bundle (mktemp dirs are 0700).
  chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
  set_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  in_container 'id -u; cat /proc/self/uid_map; ls /sys/fs/cgroup/pids/pids.max; grep " /sys/fs/cgroup " /proc/self/mountinfo'
  assert_success
  assert_line --index 0 0
  assert_line --index 1 --regexp '^ +0 +100000 +65536$'
  # The host's cgroup tmpfs cannot be cloned from a user namespace (its
  # hierarchies are locked mounts): kist builds the view itself.
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
    assert_line --index 2 /sys/fs/cgroup/pids/pids.max
    host_dev=$(awk '$5 == "/sys/fs/cgroup" { print $3 }' /proc/self/mountinfo)
    refute_line --index 3 --partial " $host_dev / /sys/fs/cgroup "
  fi
}

@test "joining another container's network and pid namespace by path" {
  set_config '.process.args = ["sleep", "100"]'
  kist run -d --bundle "$BUNDLE" "$ID-a" >/dev/null 2>&1 </dev/null
  apid=$(kist state "$ID-a" | jq -r .pid)
  set_config ".linux.namespaces = [.linux.namespaces[] | if .type == \"network\" then .path = \"/proc/$apid/ns/net\" elif .type == \"pid\" then .path = \"/proc/$apid/ns/pid\" else . end]"
  set_config '.process.args = ["sh", "-c", "readlink /proc/self/ns/net; cat /proc/1/cmdline | tr \"\\0\" \" \"; echo"]'
  run kist run --bundle "$BUNDLE" "$ID-b"
  assert_success
  assert_line --index 0 "$(readlink /proc/$apid/ns/net)"
  assert_line --index 1 "sleep 100 "
}

@test "a time namespace applies linux.timeOffsets" {
  [ -e /proc/self/ns/time ] || skip "no time namespaces in this kernel"
  set_config '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 1000000, "nanosecs": 0}}'
  in_container 'cut -d. -f1 /proc/uptime'
  assert_success
  [ "$output" -ge 1000000 ]
}

@test "a time namespace with a user namespace: offsets written, root mapped" {
  [ -e /proc/self/ns/time ] || skip "no time namespaces in this kernel"
  chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
  set_config '.linux.namespaces += [{"type": "user"}, {"type": "time"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.timeOffsets = {"boottime": {"secs": 1000000, "nanosecs": 0}, "monotonic": {"secs": 2000000, "nanosecs": 0}}'
  in_container 'cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets; id -u; readlink /proc/self/ns/time'
  assert_success
  [ "${lines[0]}" -ge 1000000 ]
  assert_line --regexp '^monotonic +2000000 +0$'
  assert_line --regexp '^boottime +1000000 +0$'
  assert_line --index 3 0
  [ "${lines[4]}" != "$(readlink /proc/self/ns/time)" ]
}

@test "joining a namespace of the wrong type is refused before anything is made" {
  set_config ".linux.namespaces = [.linux.namespaces[] | if .type == \"ipc\" then .path = \"/proc/self/ns/net\" else . end]"
  run kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "linux.namespaces["
  assert_output --partial "not ipc"
  assert_root_empty
}

@test "user namespace: uid_map and gid_map hold exactly the configured mappings" {
  userns_config
  set_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 10}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 500}]'
  in_container 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map'
  assert_success
  run awk '{$1=$1; print}' <<<"$output"
  assert_output "0 100000 1000
1000 300000 10
--
0 200000 500"
}

@test "user namespace: the container's files show on the host as the mapped uid" {
  userns_config
  chown 100000:100000 "$BUNDLE/rootfs/tmp"
  in_container 'touch /tmp/made; stat -c %u:%g /tmp/made'
  assert_success
  assert_output 0:0
  [ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/made")" = 100000:100000 ]
}

@test "every namespace type: new ones differ from the host's, absent ones equal it" {
  all='pid net ipc uts mnt cgroup user time'
  [ -e /proc/self/ns/time ] || skip "no time namespaces in this kernel"
  userns_config
  set_config '.linux.namespaces += [{"type": "time"}]'
  in_container "for n in $all; do echo \"\$n \$(readlink /proc/self/ns/\$n)\"; done"
  assert_success
  for n in $all; do
    inside=$(awk -v n="$n" '$1 == n {print $2}' <<<"$output")
    [ -n "$inside" ]
    [ "$inside" != "$(readlink /proc/self/ns/$n)" ]
  done
  # Only a mount namespace: everything else is the host's.
  set_config '.linux.namespaces = [{"type": "mount"}] | del(.linux.uidMappings, .linux.gidMappings, .hostname)'
  in_container "for n in $all; do echo \"\$n \$(readlink /proc/self/ns/\$n)\"; done"
  assert_success
  for n in $all; do
    inside=$(awk -v n="$n" '$1 == n {print $2}' <<<"$output")
    if [ "$n" = mnt ]; then
      [ "$inside" != "$(readlink /proc/self/ns/mnt)" ]
    else
      [ "$inside" = "$(readlink /proc/self/ns/$n)" ]
    fi
  done
}

@test "propagation: a host mount made after start shows under an rslave volume, not an rprivate one" {
  vol=$BATS_TEST_TMPDIR/vol
  host_shared "$vol"
  mkdir -p "$vol/sub"
  add_mount /slave "$vol" '["rbind", "rslave"]'
  add_mount /private "$vol" '["rbind", "rprivate"]'
  set_config '.process.args = ["sleep", "100"]'
  start_detached
  host_tmpfs "$vol/sub"
  echo flag >"$vol/sub/flag"
  run kist exec "$ID" cat /slave/sub/flag
  assert_success
  assert_output flag
  run kist exec "$ID" ls -A /private/sub
  assert_success
  assert_output ""
  # ... and nothing the container mounts goes back: the host sees no kist mount.
  ! grep -F "$BUNDLE" /proc/self/mountinfo
}

@test "rootfsPropagation shared, slave, private, unbindable read back from /proc/self/mountinfo" {
  # The rootfs on a shared host mount, so "slave" has a master to show.
  host_shared "$BUNDLE/rootfs"
  for p in shared slave private unbindable; do
    set_config '.linux.rootfsPropagation = $p' --arg p "$p"
    in_container 'awk '"'"'$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i; print "end" }'"'"' /proc/self/mountinfo'
    assert_success
    echo "$p: $output"
    case $p in
    shared) [[ "$output" == *shared:* ]] ;;
    slave) [[ "$output" == *master:* && "$output" != *shared:* ]] ;;
    private) [ "$output" = end ] ;;
    unbindable) [[ "$output" == *unbindable* && "$output" != *shared:* ]] ;;
    esac
  done
  # The host's side did not change.
  run findmnt -no PROPAGATION "$BUNDLE/rootfs"
  assert_output shared
}

@test "ro applies to the bind mount only, rro to its submounts too" {
  vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  host_tmpfs "$vol/sub"
  add_mount /ro "$vol" '["rbind", "ro"]'
  add_mount /rro "$vol" '["rbind", "rro"]'
  in_container 'for d in /ro /ro/sub /rro /rro/sub; do touch $d/w 2>/dev/null && echo "$d rw" || echo "$d ro"; done'
  assert_success
  assert_output "/ro ro
/ro/sub rw
/rro ro
/rro/sub ro"
  [ ! -e "$vol/w" ]
}

@test "idmap: a bind mount shows the mount's own mapping; files made through it land unmapped" {
  vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo hi >"$vol/f"
  chown 1000:1000 "$vol" "$vol/f"
  add_mount /data "$vol" '["bind", "idmap"]' '{"uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 10}], "gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 10}]}'
  add_mount /plain "$vol" '["bind"]'
  set_config '.process.user = {"uid": 2000, "gid": 3000}'
  in_container 'stat -c "%u:%g" /data /data/f /plain/f; touch /data/new && echo made; touch /plain/no 2>/dev/null || echo refused; grep " /data " /proc/self/mountinfo'
  assert_success
  assert_line --index 0 2000:3000
  assert_line --index 1 2000:3000
  assert_line --index 2 1000:1000
  assert_line made
  assert_line refused
  assert_line --partial idmapped
  [ "$(stat -c %u:%g "$vol/new")" = 1000:1000 ]
  [ ! -e "$vol/no" ]
}

@test "idmap in a user namespace: the container's root owns a root-owned host dir, writes as host root" {
  userns_config
  vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol" "$BUNDLE/rootfs/data" "$BUNDLE/rootfs/plain" "$BUNDLE/rootfs/rodata"
  echo hi >"$vol/f"
  # No mappings of its own: the container's are used.
  add_mount /data "$vol" '["bind", "idmap"]'
  add_mount /rodata "$vol" '["bind", "idmap", "ro"]'
  add_mount /plain "$vol" '["bind"]'
  in_container 'stat -c "%u:%g" /data/f /plain/f; touch /data/new && echo made; touch /plain/no 2>/dev/null || echo refused; touch /rodata/no2 2>&1'
  assert_failure
  assert_line --index 0 0:0
  assert_line --index 1 65534:65534
  assert_line made
  assert_line refused
  assert_line --partial "Read-only file system"
  [ "$(stat -c %u:%g "$vol/new")" = 0:0 ]
  [ ! -e "$vol/no" ] && [ ! -e "$vol/no2" ]
}

@test "ridmap maps submounts of an rbind, idmap only the top" {
  vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  host_tmpfs "$vol/sub"
  touch "$vol/f" "$vol/sub/f"
  chown 1000:1000 "$vol/f" "$vol/sub/f"
  maps='{"uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}], "gidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}]}'
  add_mount /r "$vol" '["rbind", "ridmap"]' "$maps"
  add_mount /i "$vol" '["rbind", "idmap"]' "$maps"
  in_container 'stat -c %u /r/f /r/sub/f /i/f /i/sub/f'
  assert_success
  assert_output "2000
2000
2000
1000"
}

@test "idmap: bad configs fail with one line and leave nothing behind" {
  vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/base.json"
  m='[{"containerID": 0, "hostID": 1000, "size": 10}]'
  for case in \
    "idmap needs uidMappings|[\"bind\", \"idmap\"]|{}" \
    "go together|[\"bind\", \"idmap\"]|{\"uidMappings\": $m}" \
    "must be at least 1|[\"bind\", \"ridmap\"]|{\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 0}], \"gidMappings\": $m}" \
    "bind mounts only|[\"idmap\"]|{\"type\": \"tmpfs\", \"source\": \"tmpfs\", \"uidMappings\": $m, \"gidMappings\": $m}"; do
    IFS='|' read -r want opts extra <<<"$case"
    cp "$BATS_TEST_TMPDIR/base.json" "$BUNDLE/config.json"
    add_mount /data "$vol" "$opts" "$extra"
    run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
    assert_one_line_error "$want"
    assert_root_empty
  done
  # A source on a filesystem that cannot be idmapped (procfs).
  cp "$BATS_TEST_TMPDIR/base.json" "$BUNDLE/config.json"
  add_mount /data /proc/sys '["bind", "idmap"]' "{\"uidMappings\": $m, \"gidMappings\": $m}"
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "cannot be idmapped"
  assert_root_empty
}

@test "masked paths: files are the real /dev/null and read empty, dirs are empty and read-only" {
  set_config '.linux.maskedPaths = ["/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi"]'
  in_container 'stat -c "%n %F %t:%T" /proc/keys /proc/timer_list; head -c 100 /proc/keys | wc -c; ls -A /sys/firmware | wc -l; touch /sys/firmware/x 2>/dev/null && echo written || echo refused; echo x > /proc/timer_list && cat /proc/timer_list | wc -c'
  assert_success
  assert_line --index 0 "/proc/keys character special file 1:3"
  assert_line --index 1 "/proc/timer_list character special file 1:3"
  assert_line --index 2 0
  assert_line --index 3 0
  assert_line --index 4 refused
  assert_line --index 5 0
}

@test "devices: the defaults are 0666 character devices; linux.devices get type, numbers, mode and owner" {
  set_config '.linux.devices = [
      {"path": "/dev/kistc", "type": "c", "major": 1, "minor": 5, "fileMode": 384, "uid": 12, "gid": 34},
      {"path": "/dev/sub/kistb", "type": "b", "major": 7, "minor": 200, "fileMode": 416},
      {"path": "/dev/kistp", "type": "p", "fileMode": 420}]'
  in_container 'stat -c "%n %F %t:%T %a %u:%g" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/kistc /dev/sub/kistb /dev/kistp'
  assert_success
  assert_output "/dev/null character special file 1:3 666 0:0
/dev/zero character special file 1:5 666 0:0
/dev/full character special file 1:7 666 0:0
/dev/random character special file 1:8 666 0:0
/dev/urandom character special file 1:9 666 0:0
/dev/tty character special file 5:0 666 0:0
/dev/kistc character special file 1:5 600 12:34
/dev/sub/kistb block special file 7:c8 640 0:0
/dev/kistp fifo 0:0 644 0:0"
}

@test "a mount destination through a rootfs symlink to /etc lands in the rootfs's /etc, never the host's" {
  before=$(sha256sum /etc/hostname)
  ln -s /etc "$BUNDLE/rootfs/hostetc"
  echo evil >"$BATS_TEST_TMPDIR/evil"
  add_mount /hostetc/hostname "$BATS_TEST_TMPDIR/evil" '["bind", "ro"]'
  set_config ".mounts += [{\"destination\": \"/hostetc/kist-iso-$$\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
  in_container "cat /etc/hostname; grep -c ' /etc/kist-iso-$$ ' /proc/self/mountinfo"
  assert_success
  assert_output "evil
1"
  [ "$(sha256sum /etc/hostname)" = "$before" ]
  [ ! -e "/etc/kist-iso-$$" ]
  ! grep -E ' /etc/(hostname|kist-iso-)' /proc/self/mountinfo
}

@test "joining a user namespace by path with a new time namespace: offsets still written" {
  [ -e /proc/self/ns/time ] || skip "no time namespaces in this kernel"
  userns_config
  set_config '.process.args = ["sleep", "100"]'
  start_detached "$ID-a"
  apid=$(kist state "$ID-a" | jq -r .pid)
  set_config "del(.linux.uidMappings, .linux.gidMappings)
    | .linux.namespaces = [.linux.namespaces[] | if .type == \"user\" then .path = \"/proc/$apid/ns/user\" else . end] + [{\"type\": \"time\"}]
    | .linux.timeOffsets = {\"boottime\": {\"secs\": 1000000, \"nanosecs\": 0}}"
  in_container 'cut -d. -f1 /proc/uptime; readlink /proc/self/ns/user'
  assert_success
  [ "${lines[0]}" -ge 1000000 ]
  assert_line --index 1 "$(readlink /proc/$apid/ns/user)"
}

@test "isolation: a new network namespace has lo up (127.0.0.1 works), and nothing else" {
  # ip(8) asks the kernel over netlink: the container's own namespace (its
  # /sys may be the host's, bound, in a user namespace).
  setup_bundle sh -c 'ip -o link show'
  run kist run --bundle "$BUNDLE" iso-lo
  assert_success
  [ "${#lines[@]}" -eq 1 ] || fail "interfaces: $output"
  [[ "${lines[0]}" =~ ^1:\ lo:\ \<LOOPBACK,UP ]] || fail "lo is not up: ${lines[0]}"
}
