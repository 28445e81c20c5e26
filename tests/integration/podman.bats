#!/usr/bin/env bats
# Podman (Debian's 4.3) driving kist, unmodified: kist is registered through
# contrib/podman/containers.conf and picked with `--runtime kist`. Podman's
# storage, network config and temp files are private to this file's temp
# dir; the image is the busybox rootfs, imported offline.

load ../helpers
load integ

# pm ARG...: podman with this file's private storage and kist as the runtime
# (PM_RUNTIME=/path/to/other picks another one), through the script that
# setup_file writes (so that `script` can run it too).
pm() {
  "$BATS_FILE_TMPDIR/podman/pm" "$@"
}

# pm_run ARG...: `pm run` with this run's cgroup parent and the ulimits this
# host allows (see INTEG_ULIMITS).
pm_run() {
  local sub=$1
  shift
  pm "$sub" --cgroup-parent "/$INTEG_TAG" "${INTEG_ULIMITS[@]}" "$@"
}

IMAGE=localhost/kist-integ-busybox:latest

setup_file() {
  local d=$BATS_FILE_TMPDIR/podman reason=
  mkdir -p "$d"
  integ_note_new_paths /var/lib/containers /run/containers /etc/containers/networks
  if ! command -v podman >/dev/null; then
    reason="podman is not installed (contrib/deps.sh installs it)"
  else
    # The snippet users install, with this build's kist first in the list.
    sed "s|^kist = \[|kist = [\n  \"$KIST\",|" "$REPO/contrib/podman/containers.conf" >"$d/containers.conf"
    # No network at all: the tests must not create bridges or firewall rules.
    printf '\n[containers]\nnetns = "none"\n' >>"$d/containers.conf"
    cat >"$d/pm" <<EOF
#!/bin/sh
CONTAINERS_CONF=$d/containers.conf exec podman --root $d/root --runroot $d/runroot \\
  --tmpdir $d/tmp --network-config-dir $d/net --cgroup-manager cgroupfs \\
  --events-backend file --runtime "\${PM_RUNTIME:-kist}" "\$@"
EOF
    chmod +x "$d/pm"
    integ_image_tar "$d/busybox.tar"
    if ! pm info >"$d/info.out" 2>&1; then
      reason="podman cannot start here: $(grep -m1 -i error "$d/info.out")"
    elif ! pm import "$d/busybox.tar" "$IMAGE" >"$d/import.out" 2>&1; then
      reason="podman cannot import an image here: $(tail -n1 "$d/import.out")"
    fi
  fi
  [ -z "$reason" ] || echo "$reason" >"$d/skip"
}

teardown_file() {
  local d=$BATS_FILE_TMPDIR/podman
  if [ ! -f "$d/skip" ]; then
    pm rm -a -f >/dev/null 2>&1 || true
    pm rmi -a -f >/dev/null 2>&1 || true
    pm system reset -f >/dev/null 2>&1 || true
  fi
  local rc=0
  # The overlay driver's own bind mount of its home, if `system reset` kept it.
  if awk -v m="$d/root/overlay" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; then
    umount "$d/root/overlay" || rc=1
  fi
  integ_check_mounts "$d" || rc=1
  integ_remove_new_paths
  return $rc
}

setup() {
  local d=$BATS_FILE_TMPDIR/podman
  [ ! -f "$d/skip" ] || integ_skip_loudly "$(cat "$d/skip")"
  # The VM lane ([vm-podman]) is there to check the cgroup v2 files: a
  # guest without a pure v2 mount must not quietly test something else.
  if [ -n "${KIST_IN_VM:-}" ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
    fail "in the VM lane, but /sys/fs/cgroup is not cgroup v2"
  fi
}

# Every test removes its containers itself: one left is a failure, and so is
# a kist state dir, a cgroup under this run's parent (bar Podman's own
# conmon cgroup), a mount under the storage or a conmon still running.
teardown() {
  local d=$BATS_FILE_TMPDIR/podman rc=0 left ids
  [ ! -f "$d/skip" ] || return 0
  left=$(pm ps -a -q --no-trunc 2>/dev/null)
  if [ -n "$left" ]; then
    echo "podman containers left behind: $left" >&2
    pm rm -f -t 0 $left >/dev/null 2>&1 || true
    rc=1
  fi
  # kist's default state root (Podman passes no --root to cleanup runs):
  # nothing of ours may stay there.
  ids=$("$KIST" list --format json 2>/dev/null |
    jq -r --arg d "$d/" '.[] | select(.bundle | startswith($d)) | .id')
  if [ -n "$ids" ]; then
    echo "kist state left behind: $ids" >&2
    for i in $ids; do "$KIST" delete -f "$i" >/dev/null 2>&1 || true; done
    rc=1
  fi
  integ_check_processes "$d" 10 || rc=1
  integ_check_cgroups conmon || rc=1
  # Container roots (overlay/*/merged) and /dev/shm (overlay-containers/);
  # the overlay driver may keep its home bind-mounted (private) while in use.
  integ_check_mounts "$d" "$d/root/overlay" || rc=1
  return $rc
}

# ctr_cgroup ID CONTROLLER: the host's cgroup dir of Podman container ID.
ctr_cgroup() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup/$INTEG_TAG/libpod-$1"
  else
    echo "/sys/fs/cgroup/$2/$INTEG_TAG/libpod-$1"
  fi
}

@test "podman: run --rm passes the exit code through (0, 3, 126, 127)" {
  run pm_run run --rm "$IMAGE" true
  assert_success
  run pm_run run --rm "$IMAGE" sh -c 'echo out; echo err >&2; exit 3'
  assert_equal "$status" 3
  assert_line out
  assert_line err
  # Errors from kist itself: Podman maps them by kist's message.
  run -126 pm_run run --rm "$IMAGE" /etc/passwd
  assert_equal "$status" 126
  assert_output --partial "kist: process.args[0]: /etc/passwd: Permission denied"
  run -127 pm_run run --rm "$IMAGE" /no/such/cmd
  assert_equal "$status" 127
  assert_output --partial "kist: process.args[0]: /no/such/cmd: No such file or directory"
}

@test "podman: run -d, exec, logs, stop (SIGTERM, then SIGKILL), rm -f" {
  run pm_run run -d --name integ-d1 "$IMAGE" \
    sh -c 'echo started; trap "echo got TERM; exit 0" TERM; while :; do sleep 0.1; done'
  assert_success
  run pm exec integ-d1 sh -c 'echo in exec; cat /proc/1/cmdline | tr "\0" " "; exit 5'
  assert_equal "$status" 5
  assert_line --index 0 "in exec"
  assert_output --partial "sh -c echo started"
  run pm exec -e FOO=bar -w /tmp integ-d1 sh -c 'echo $FOO $(pwd)'
  assert_success
  assert_output "bar /tmp"
  run pm logs integ-d1
  assert_output started
  run pm stop -t 10 integ-d1
  assert_success
  run pm logs integ-d1
  assert_output $'started\ngot TERM'
  run pm inspect --format '{{.State.ExitCode}}' integ-d1
  assert_output 0
  run pm rm integ-d1
  assert_success

  # A process that ignores SIGTERM is killed after the timeout.
  run pm_run run -d --name integ-d2 "$IMAGE" sh -c 'trap "" TERM; while :; do sleep 0.1; done'
  assert_success
  local t0=$SECONDS
  run pm stop -t 1 integ-d2
  assert_success
  [ $((SECONDS - t0)) -ge 1 ] || fail "stop returned before the timeout"
  run pm inspect --format '{{.State.ExitCode}}' integ-d2
  assert_output 137
  run pm rm integ-d2
  assert_success

  # rm -f of a running container.
  run pm_run run -d --name integ-d3 "$IMAGE" sleep 1000
  assert_success
  run pm rm -f -t 0 integ-d3
  assert_success
  run pm ps -a -q
  assert_output ""
}

@test "podman: run -t gives the process a terminal (through script)" {
  local cmd
  cmd=$(printf '%q ' "$BATS_FILE_TMPDIR/podman/pm" run --cgroup-parent "/$INTEG_TAG" \
    "${INTEG_ULIMITS[@]}" --rm -t "$IMAGE" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exit 4')
  run script -qec "$cmd" /dev/null
  assert_equal "$status" 4
  assert_output --partial /dev/pts/0
  assert_output --partial both-tty
}

@test "podman: --memory, --pids-limit and --cpus are in the container's cgroup" {
  run pm_run run -d --name integ-res --memory 64m --pids-limit 77 --cpus 0.5 "$IMAGE" sleep 1000
  assert_success
  local id
  id=$(pm inspect --format '{{.Id}}' integ-res)
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    local cg=/sys/fs/cgroup/$INTEG_TAG/libpod-$id
    assert_equal "$(cat "$cg/memory.max")" 67108864
    assert_equal "$(cat "$cg/pids.max")" 77
    assert_equal "$(cat "$cg/cpu.max")" "50000 100000"
    run pm exec integ-res cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max
    assert_output $'67108864\n77\n50000 100000'
  else
    assert_equal "$(cat "$(ctr_cgroup "$id" memory)/memory.limit_in_bytes")" 67108864
    assert_equal "$(cat "$(ctr_cgroup "$id" pids)/pids.max")" 77
    assert_equal "$(cat "$(ctr_cgroup "$id" cpu)/cpu.cfs_quota_us")" 50000
    assert_equal "$(cat "$(ctr_cgroup "$id" cpu)/cpu.cfs_period_us")" 100000
    # The container sees its own cgroup at /sys/fs/cgroup/<controller>.
    run pm exec integ-res cat /sys/fs/cgroup/memory/memory.limit_in_bytes \
      /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us
    assert_output $'67108864\n77\n50000'
  fi
  # The process is in it (seen from the host: on v2 the container has a
  # cgroup namespace of its own and sees "/").
  local pid
  pid=$(pm inspect --format '{{.State.Pid}}' integ-res)
  run cat "/proc/$pid/cgroup"
  assert_output --partial "$INTEG_TAG/libpod-$id"
  run pm rm -f -t 0 integ-res
  assert_success
}

@test "podman: pause and unpause freeze and thaw the container" {
  run pm_run run -d --name integ-pause "$IMAGE" sh -c 'while :; do date +%s%N >/tmp/tick; sleep 0.05; done'
  assert_success
  local id freezer
  id=$(pm inspect --format '{{.Id}}' integ-pause)
  run pm pause integ-pause
  assert_success
  run pm inspect --format '{{.State.Status}}' integ-pause
  assert_output paused
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    assert_equal "$(cat "/sys/fs/cgroup/$INTEG_TAG/libpod-$id/cgroup.freeze")" 1
  else
    freezer=$(ctr_cgroup "$id" freezer)/freezer.state
    assert_equal "$(cat "$freezer")" FROZEN
  fi
  # Nothing runs while frozen: the tick file does not change.
  local mnt a b
  mnt=$(pm mount integ-pause)
  a=$(cat "$mnt/tmp/tick")
  sleep 0.3
  b=$(cat "$mnt/tmp/tick")
  pm unmount integ-pause >/dev/null
  assert_equal "$a" "$b"
  run pm unpause integ-pause
  assert_success
  run pm inspect --format '{{.State.Status}}' integ-pause
  assert_output running
  # Running again: the tick moves (within 10 s on a busy host).
  local i
  for i in $(seq 1 50); do
    run pm exec integ-pause cat /tmp/tick
    [ "$output" != "$b" ] && break
    sleep 0.2
  done
  [ "$output" != "$b" ] || fail "the container did not run again after unpause"
  run pm rm -f -t 0 integ-pause
  assert_success
}

@test "podman: update --memory changes the running container's limit" {
  run pm_run run -d --name integ-upd --memory 64m "$IMAGE" sleep 1000
  assert_success
  local id f
  id=$(pm inspect --format '{{.Id}}' integ-upd)
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    f=/sys/fs/cgroup/$INTEG_TAG/libpod-$id/memory.max
  else
    f=$(ctr_cgroup "$id" memory)/memory.limit_in_bytes
  fi
  assert_equal "$(cat "$f")" 67108864
  run pm update --memory 128m integ-upd
  assert_success
  assert_equal "$(cat "$f")" 134217728
  # The same through kist directly (Podman's --root for kist is the default).
  run "$KIST" update --memory 100663296 "$id"
  assert_success
  assert_equal "$(cat "$f")" 100663296
  run pm rm -f -t 0 integ-upd
  assert_success
}

@test "podman: --read-only makes the root read-only, tmpfs /tmp stays writable" {
  run pm_run run --rm --read-only "$IMAGE" sh -c 'touch /x && echo root-writable; touch /tmp/y && echo tmp-ok; grep " / " /proc/mounts'
  assert_success
  refute_output --partial root-writable
  assert_output --partial "Read-only file system"
  assert_output --partial tmp-ok
  assert_output --regexp ' / [a-z]+ ro[, ]'
}

@test "podman: --cap-drop and --cap-add set the capability sets" {
  # NET_RAW (13) alone: 0x2000.
  run pm_run run --rm --cap-drop all --cap-add net_raw "$IMAGE" grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status
  assert_success
  assert_line --regexp '^CapEff:\s+0000000000002000$'
  assert_line --regexp '^CapBnd:\s+0000000000002000$'
  run pm_run run --rm --cap-drop chown "$IMAGE" sh -c 'chown 1 /tmp && echo chowned'
  refute_output --partial chowned
  assert_output --partial "Operation not permitted"
  run pm_run run --rm "$IMAGE" sh -c 'chown 1 /tmp && echo chowned'
  assert_output chowned
}

@test "podman: --security-opt seccomp=FILE is enforced" {
  local prof=$BATS_TEST_TMPDIR/seccomp.json
  cat >"$prof" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
  run pm_run run --rm --security-opt "seccomp=$prof" "$IMAGE" sh -c 'mkdir /tmp/d && echo made'
  refute_output --partial made
  assert_output --partial "Operation not permitted"
  # Podman's default profile allows it.
  run pm_run run --rm "$IMAGE" sh -c 'mkdir /tmp/d && echo made'
  assert_output made
}

@test "podman: --uidmap/--gidmap run the container in a user namespace" {
  run pm_run run --rm --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$IMAGE" \
    sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox'
  assert_success
  assert_line --index 0 --regexp '^ +0 +200000 +65536$'
  assert_line --index 1 --regexp '^ +0 +200000 +65536$'
  assert_line --index 2 0
  # The image's files, owned by 0 on the host, are mapped to 0 inside.
  assert_line --index 3 0
}

@test "podman: top lists the container's processes" {
  run pm_run run -d --name integ-top "$IMAGE" sh -c 'sleep 1000 & sleep 999; exit 0'
  assert_success
  run pm top integ-top
  assert_success
  assert_line --regexp 'sleep 1000'
  assert_line --regexp 'sleep 999'
  run pm top integ-top pid comm
  assert_success
  assert_line --regexp '^1 +sh$'
  run pm rm -f -t 0 integ-top
  assert_success
}

@test "podman: the default nofile rlimit above the hard limit gets kist's message" {
  local hard
  hard=$(ulimit -Hn)
  [ "$hard" != unlimited ] && [ "$hard" -lt 1048576 ] ||
    skip "the hard nofile limit ($hard) allows Podman's default"
  local eff
  eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
  ! (((16#$eff >> 24) & 1)) || skip "we have CAP_SYS_RESOURCE: the limit can be raised"
  run pm run --rm --cgroup-parent "/$INTEG_TAG" "$IMAGE" true
  assert_failure
  # Podman asks for 1048576; kist names the limit and the way out.
  assert_output --partial "kist: process.rlimits"
  assert_output --partial "RLIMIT_NOFILE"
  assert_output --partial "1048576"
  assert_output --partial "$hard"
  assert_output --partial "--ulimit nofile=$hard:$hard"
}

@test "podman: run times with kist and with runc (same image, same run)" {
  command -v runc >/dev/null || skip "runc is not installed"
  local n=10 i ns tk=0 tr=0 runc
  runc=$(command -v runc)
  # Interleaved, so that the machine's load weighs on both alike.
  for ((i = 0; i < n; i++)); do
    ns=$(integ_ns pm_run run --rm "$IMAGE" true) || fail "podman run with kist failed"
    tk=$((tk + ns))
    ns=$(PM_RUNTIME=$runc integ_ns pm_run run --rm "$IMAGE" true) || fail "podman run with runc failed"
    tr=$((tr + ns))
  done
  integ_report "podman run --rm" $n $tk $tr
}

# ---- checkpoint / restore (CRIU) ----------------------------------------
# Debian's criu 3.17 cannot dump on the host's kernel (6.18: its vDSO check
# fails); the VM lane ([vm-podman] boot of tests/vm/check-vm.sh, Debian's
# 6.1 kernel) runs these.

# pm_require_criu: skip unless CRIU can dump on this kernel.
pm_require_criu() {
  command -v criu >/dev/null || skip "criu is not installed (apt-get install criu)"
  local why
  if ! why=$(criu check 2>&1); then
    skip "criu check fails on kernel $(uname -r) ($(tail -n 1 <<<"$why")); the VM lane ([vm-podman]) runs this test"
  fi
}

# A shell that prints 0, 1, 2, ... (to its log and to /tmp/c): after a
# restore the numbering must go on from where it was dumped, not from 0.
COUNTER='i=0; while :; do echo $i; echo $i >/tmp/c; i=$((i+1)); sleep 0.2; done'

# pm_merged NAME: the container's root, as mounted on the host (read
# directly: a `podman exec` costs seconds under TCG).
pm_merged() {
  pm inspect --format '{{.GraphDriver.Data.MergedDir}}' "$1"
}

# wait_file_above FILE N: wait (up to 30 s) until FILE holds a number > N.
wait_file_above() {
  local i v
  for i in $(seq 1 150); do
    v=$(cat "$1" 2>/dev/null)
    [ -n "$v" ] && [ "$v" -gt "$2" ] && return 0
    sleep 0.2
  done
  fail "the counter in $1 did not go past $2 (at ${v:-nothing})"
}

# logs_consecutive NAME FIRST: NAME's log is FIRST, FIRST+1, ... in order.
logs_consecutive() {
  pm logs "$1" >"$BATS_TEST_TMPDIR/logs" 2>&1 || fail "podman logs $1 failed"
  awk -v f="$2" '$1 != NR - 1 + f { printf "log line %d says %s\n", NR, $0; bad = 1; exit }
    END { exit bad || NR < 2 }' "$BATS_TEST_TMPDIR/logs" ||
    fail "$1's log is not $2, $2+1, ...: $(head -c 600 "$BATS_TEST_TMPDIR/logs")"
}

@test "podman: checkpoint and restore: the counter goes on from where it stopped" {
  pm_require_criu
  run pm_run run -d --name pvm-ck "$IMAGE" sh -c "$COUNTER"
  assert_success
  local id mnt at pid
  id=$(pm inspect --format '{{.Id}}' pvm-ck)
  mnt=$(pm_merged pvm-ck)
  wait_file_above "$mnt/tmp/c" 4
  # --leave-running: dumped, and still running and counting.
  # --print-stats: Podman reads CRIU's stats-dump from the --work-path it
  # gave kist.
  run pm container checkpoint --leave-running --print-stats pvm-ck
  assert_success
  assert_output --partial '"freezing_time"'
  run pm inspect --format '{{.State.Status}}' pvm-ck
  assert_output running
  at=$(cat "$mnt/tmp/c")
  wait_file_above "$mnt/tmp/c" $((at + 2))
  run "$KIST" state "$id"
  assert_success
  [ "$(jq -r .status <<<"$output")" = running ] || fail "kist state: $output"
  # Without it: dumped and stopped, and kist has deleted its container.
  # (--file-locks here and at the restore: flags Podman hands to kist.)
  run pm container checkpoint --file-locks pvm-ck
  assert_success
  run pm inspect --format '{{.State.Status}}' pvm-ck
  assert_output exited
  run "$KIST" state "$id"
  assert_failure
  at=$(pm logs pvm-ck | tail -n 1)
  [ "$at" -gt 4 ] || fail "the log ends at '$at' before the restore"
  run pm container restore --file-locks --print-stats pvm-ck
  assert_success
  assert_output --partial '"restore_time"'
  run pm inspect --format '{{.State.Status}} {{.State.Pid}}' pvm-ck
  assert_output --regexp '^running [0-9]+$'
  pid=${output#running }
  mnt=$(pm_merged pvm-ck)
  wait_file_above "$mnt/tmp/c" $((at + 3))
  # One numbering from 0 across the dump: restored, not started again.
  logs_consecutive pvm-ck 0
  # The restored process is in the cgroup Podman asked for, kist's state
  # says running, and Podman can exec into it and stop it.
  run cat "/proc/$pid/cgroup"
  assert_output --partial "$INTEG_TAG/libpod-$id"
  run "$KIST" state "$id"
  assert_success
  [ "$(jq -r .status <<<"$output")" = running ] || fail "kist state: $output"
  run pm exec pvm-ck sh -c 'cat /tmp/c; echo exec-ok'
  assert_line exec-ok
  run pm stop -t 1 pvm-ck
  assert_success
  run pm inspect --format '{{.State.ExitCode}}' pvm-ck
  assert_output 137
  run pm rm pvm-ck
  assert_success
}

@test "podman: checkpoint --export, then restore --import as a new container" {
  pm_require_criu
  run pm_run run -d --name pvm-src "$IMAGE" sh -c "$COUNTER"
  assert_success
  local src copy pid
  src=$(pm inspect --format '{{.Id}}' pvm-src)
  wait_file_above "$(pm_merged pvm-src)/tmp/c" 4
  run pm container checkpoint --export "$BATS_TEST_TMPDIR/ck.tar.gz" pvm-src
  assert_success
  [ -s "$BATS_TEST_TMPDIR/ck.tar.gz" ] || fail "no exported checkpoint"
  # A new container (new id, new rootfs made from the image and the
  # export's changes: kist makes the mountpoints CRIU needs in it).
  run pm container restore --import "$BATS_TEST_TMPDIR/ck.tar.gz" --name pvm-copy
  assert_success
  copy=$(pm inspect --format '{{.Id}}' pvm-copy)
  [ "$copy" != "$src" ] || fail "the import reused the source's id"
  run pm inspect --format '{{.State.Status}} {{.State.Pid}}' pvm-copy
  assert_output --regexp '^running [0-9]+$'
  pid=${output#running }
  local at
  at=$(pm logs pvm-src | tail -n 1)
  wait_file_above "$(pm_merged pvm-copy)/tmp/c" $((at + 3))
  # The export carries the log: the copy's goes on from the source's.
  logs_consecutive pvm-copy 0
  run cat "/proc/$pid/cgroup"
  assert_output --partial "$INTEG_TAG/libpod-$copy"
  run pm rm -f -t 0 pvm-copy pvm-src
  assert_success
}

@test "podman: checkpoint --pre-checkpoint, then --with-previous, restores" {
  pm_require_criu
  run pm_run run -d --name pvm-pre "$IMAGE" sh -c "$COUNTER"
  assert_success
  local mnt at
  mnt=$(pm_merged pvm-pre)
  wait_file_above "$mnt/tmp/c" 4
  # A memory-only dump (kist checkpoint --pre-dump): the container runs on.
  run pm container checkpoint --pre-checkpoint pvm-pre
  assert_success
  run pm inspect --format '{{.State.Status}}' pvm-pre
  assert_output running
  at=$(cat "$mnt/tmp/c")
  wait_file_above "$mnt/tmp/c" $((at + 2))
  # The final dump on top of it (kist checkpoint --parent-path).
  run pm container checkpoint --with-previous pvm-pre
  assert_success
  run pm inspect --format '{{.State.Status}}' pvm-pre
  assert_output exited
  at=$(pm logs pvm-pre | tail -n 1)
  run pm container restore pvm-pre
  assert_success
  wait_file_above "$(pm_merged pvm-pre)/tmp/c" $((at + 3))
  logs_consecutive pvm-pre 0
  run pm rm -f -t 0 pvm-pre
  assert_success
}
