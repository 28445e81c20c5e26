#!/usr/bin/env bats
# The basic isolation the lifecycle sets up: namespaces, hostname, PID 1,
# rootfs, mounts, /dev, masked and read-only paths.

load helpers

setup() {
  setup_bundle true
  ID=ki$BATS_TEST_NUMBER-$$
}

teardown() {
  common_teardown
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

@test "a user namespace maps root to an unprivileged host uid" {
  # The mapped root must be able to reach the bundle (mktemp dirs are 0700).
  chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
  set_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  in_container 'id -u; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 0
  assert_line --index 1 --regexp '^ +0 +100000 +65536$'
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
