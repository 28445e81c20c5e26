#!/usr/bin/env bats
# checkpoint / restore with CRIU. Debian's criu 3.17 cannot dump on the
# host's kernel (its vDSO check fails on 6.18): the tests that dump run in
# the VM lane (tests/vm/run.sh --filter checkpoint, Debian's 6.1 kernel) and
# skip elsewhere, saying why. The error cases run everywhere.

load helpers

setup() {
  require_command checkpoint
  OUT=$BATS_TEST_TMPDIR/out
  mkdir -p "$OUT"
  # A shell that appends 1, 2, 3, ... to /out/log: after a restore the
  # numbering must go on where it stopped, never start again at 1.
  setup_bundle sh -c 'i=0; while :; do i=$((i+1)); echo $i >> /out/log; sleep 0.2; done'
  set_config '.mounts += [{"destination": "/out", "type": "bind", "source": $o, "options": ["rbind"]}]' \
    --arg o "$OUT"
}

teardown() {
  [ -n "${CLIENT_PID:-}" ] && kill -- "-$CLIENT_PID" 2>/dev/null
  for p in ${RECV_PIDS:-}; do kill "$p" 2>/dev/null; done
  for ns in ${NETNS:-}; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${ROOT2:-}" ] && for id in $("$KIST" --root "$ROOT2" list -q 2>/dev/null); do
    "$KIST" --root "$ROOT2" delete -f "$id" >/dev/null 2>&1
  done
  common_teardown
}

# CRIU must work on this kernel for the tests that dump.
require_criu() {
  command -v criu >/dev/null || skip "criu is not installed (apt-get install criu)"
  local why
  if ! why=$(criu check 2>&1); then
    skip "criu check fails on kernel $(uname -r) ($(tail -n 1 <<<"$why")); the VM lane runs this test"
  fi
}

# count: lines in the log so far; log_consecutive: lines are 1..N in order.
count() { wc -l <"$OUT/log"; }
log_consecutive() {
  awk 'NR != $1 { printf "line %d says %s\n", NR, $1; bad = 1; exit } END { exit bad }' "$OUT/log"
}
wait_count_above() { # N [SECONDS]
  local i
  for i in $(seq 1 $((${2:-30} * 5))); do
    [ "$(count)" -gt "$1" ] && return 0
    sleep 0.2
  done
  fail "the counter did not go past $1 (at $(count))"
}

# The container's stdio is /dev/null: CRIU cannot dump an fd of a host file
# (kist swaps the host's /dev/null for the container's own).
start_counter() { # ID
  kist run -d --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>&1 || fail "run $1 failed"
  touch "$OUT/log"
  wait_count_above 3
}

@test "checkpoint: a counter goes on from where it was dumped" {
  require_criu
  start_counter ck-count
  run kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-count
  assert_success
  # Dumped and gone: the id is free, the numbering stopped.
  run kist state ck-count
  assert_failure
  local at_dump
  at_dump=$(count)
  sleep 1
  [ "$(count)" -eq "$at_dump" ] || fail "the counter ran on after the dump"
  run kist restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ck-count
  assert_success
  run kist state ck-count
  assert_success
  [ "$(jq -r .status <<<"$output")" = running ]
  wait_count_above $((at_dump + 3))
  log_consecutive
}

@test "checkpoint: --leave-running keeps the container running" {
  require_criu
  start_counter ck-leave
  run kist checkpoint --leave-running --image-path "$BATS_TEST_TMPDIR/img" ck-leave
  assert_success
  [ "$(kist state ck-leave | jq -r .status)" = running ]
  wait_count_above $(($(count) + 3))
  [ -e "$BATS_TEST_TMPDIR/img/inventory.img" ]
}

@test "checkpoint: --pre-dump then a dump with --parent-path restores" {
  require_criu
  start_counter ck-pre
  run kist checkpoint --pre-dump --image-path "$BATS_TEST_TMPDIR/pre" ck-pre
  assert_success
  [ "$(kist state ck-pre | jq -r .status)" = running ]
  run kist checkpoint --parent-path ../pre --image-path "$BATS_TEST_TMPDIR/final" ck-pre
  assert_success
  # The final dump refers to the pre-dump's pages (a "parent" link).
  [ -L "$BATS_TEST_TMPDIR/final/parent" ] || ls -la "$BATS_TEST_TMPDIR/final" >&3
  local at_dump
  at_dump=$(count)
  run kist restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/final" ck-pre
  assert_success
  wait_count_above $((at_dump + 3))
  log_consecutive
}

@test "checkpoint: one image restored twice, as two containers each in its own cgroup" {
  require_criu
  start_counter ck-twice
  run kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-twice
  assert_success
  local id pid
  for id in ck-twice-a ck-twice-b; do
    run kist restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$id"
    assert_success
    pid=$(kist state "$id" | jq -r .pid)
    # The cgroup the restoring config names (default /kist-<id>), not the
    # old one, nor one below it.
    run awk -F: '$3 != "/kist-'"$id"'"' "/proc/$pid/cgroup"
    assert_output ""
  done
  [ "$(kist list -q | sort | tr '\n' ' ')" = "ck-twice-a ck-twice-b " ]
}

@test "checkpoint: a restored container is an ordinary one (exec, kill, delete)" {
  require_criu
  start_counter ck-ord
  kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-ord
  run kist restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ck-ord
  assert_success
  run kist exec ck-ord cat /out/log
  assert_success
  run kist ps --format json ck-ord
  assert_success
  [ "$(jq length <<<"$output")" -ge 1 ]
  kist kill ck-ord KILL
  wait_for_status ck-ord stopped
  run kist delete ck-ord
  assert_success
  assert_root_empty
}

@test "checkpoint: restore in the foreground waits and returns the exit code" {
  require_criu
  set_config '.process.args = ["sh", "-c", "i=0; while [ $i -lt 25 ]; do i=$((i+1)); echo $i >> /out/log; sleep 0.2; done; exit 7"]'
  start_counter ck-fg
  kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-fg
  run kist restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ck-fg
  [ "$status" -eq 7 ] || fail "exit $status: $output"
  [ "$(count)" -eq 25 ]
  log_consecutive
  assert_root_empty
}

# "Another host" on one machine: a second state root and a second network
# namespace. The container serves TCP in namespace A: each connection gets
# 1, 2, 3, ... a line every 0.3 s. A client in C holds one connection
# through a veth. After the dump the cable is moved (the container's end of
# the veth goes to B, with the same address) and the container is restored
# there under the other root: the numbers go on, on the same connection.
@test "checkpoint: migration to another state root and network namespace keeps a TCP connection" {
  require_criu
  local n=$$ A B C
  A=ckA$n B=ckB$n C=ckC$n
  NETNS="$A $B $C"
  for ns in $NETNS; do ip netns add "$ns" && ip -n "$ns" link set lo up; done
  ip link add vc$n netns "$C" type veth peer name va$n netns "$A"
  ip -n "$C" addr add 10.99.0.1/24 dev vc$n && ip -n "$C" link set vc$n up
  ip -n "$A" addr add 10.99.0.2/24 dev va$n && ip -n "$A" link set va$n up
  printf '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo $i; sleep 0.3; done\n' >"$BUNDLE/rootfs/ticker"
  chmod 755 "$BUNDLE/rootfs/ticker"
  set_config '.process.args = ["nc", "-ll", "-p", "5000", "-e", "/ticker"]
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
      + [{"type": "network", "path": $p}]' --arg p "/var/run/netns/$A"
  kist run -d --bundle "$BUNDLE" ck-mig </dev/null >/dev/null 2>&1 || fail "run failed"
  local got=$BATS_TEST_TMPDIR/ticks i
  # Its own process group (killed whole in teardown), without bats' fd 3
  # (bats waits for every holder of it before it ends).
  setsid bash -c 'exec 3>&-; sleep 1000 | ip netns exec "$1" busybox nc 10.99.0.2 5000' _ "$C" \
    >"$got" 2>&1 &
  CLIENT_PID=$!
  for i in $(seq 1 150); do [ "$(wc -l <"$got")" -ge 3 ] && break; sleep 0.2; done
  [ "$(wc -l <"$got")" -ge 3 ] || fail "no numbers before the dump: $(cat "$got")"
  run kist checkpoint --tcp-established --image-path "$BATS_TEST_TMPDIR/img" ck-mig
  assert_success
  # Move the cable: the container's end of the veth goes to B.
  ip -n "$A" link set va$n netns "$B"
  ip -n "$B" addr add 10.99.0.2/24 dev va$n && ip -n "$B" link set va$n up
  set_config '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
      + [{"type": "network", "path": $p}]' --arg p "/var/run/netns/$B"
  ROOT2=$BATS_TEST_TMPDIR/root2
  local before
  before=$(wc -l <"$got")
  run "$KIST" --root "$ROOT2" restore -d --tcp-established --bundle "$BUNDLE" \
    --image-path "$BATS_TEST_TMPDIR/img" ck-mig
  assert_success
  local pid
  pid=$("$KIST" --root "$ROOT2" state ck-mig | jq -r .pid)
  [ "$(readlink "/proc/$pid/ns/net")" = "$(ip netns exec "$B" readlink /proc/self/ns/net)" ] ||
    fail "the restored container is not in namespace $B"
  for i in $(seq 1 300); do [ "$(wc -l <"$got")" -gt $((before + 3)) ] && break; sleep 0.2; done
  [ "$(wc -l <"$got")" -gt $((before + 3)) ] || fail "no numbers on the connection after the restore"
  # One session: 1, 2, 3, ... with no restart and no gap.
  awk 'NR != $1 { printf "line %d says %s\n", NR, $1; exit 1 }' "$got"
}

# recvtty SOCKET NAME: kist-recvtty --mode null in the background.
recvtty() {
  local r=${RECVTTY:-$(dirname "$KIST")/contrib/recvtty/kist-recvtty}
  [ -x "$r" ] || skip "kist-recvtty not built ($r)"
  "$r" --mode null "$1" >/dev/null 2>"$BATS_TEST_TMPDIR/$2.err" 3>&- &
  RECV_PIDS="${RECV_PIDS:-} $!"
  for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
  fail "recvtty did not listen on $1"
}

@test "checkpoint: a container with a terminal is restored onto a new console socket" {
  require_criu
  set_config '.process.terminal = true'
  recvtty "$BATS_TEST_TMPDIR/c1.sock" c1
  kist run -d --console-socket "$BATS_TEST_TMPDIR/c1.sock" --bundle "$BUNDLE" ck-tty \
    </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 || fail "run: $(cat "$BATS_TEST_TMPDIR/run.out")"
  touch "$OUT/log"
  wait_count_above 3
  run kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-tty
  assert_success
  local at_dump
  at_dump=$(count)
  # Without a console socket the restore is refused, and nothing is left.
  run kist restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ck-tty
  assert_failure
  assert_output --partial "--console-socket"
  recvtty "$BATS_TEST_TMPDIR/c2.sock" c2
  run kist restore -d --console-socket "$BATS_TEST_TMPDIR/c2.sock" --bundle "$BUNDLE" \
    --image-path "$BATS_TEST_TMPDIR/img" ck-tty
  assert_success
  wait_count_above $((at_dump + 3))
  log_consecutive
  run cat "$BATS_TEST_TMPDIR/c2.err"
  assert_output --partial "got"
  run kist exec ck-tty readlink /proc/1/fd/1
  assert_output --regexp '^/dev/pts/[0-9]+$'
}

# ---- errors (run everywhere) ----

@test "checkpoint: without CRIU, checkpoint and restore say so" {
  start_counter ck-nocriu
  run --separate-stderr env KIST_LIBCRIU=/nonexistent/libcriu.so.2 \
    "$KIST" --root "$KIST_ROOT" checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-nocriu
  assert_one_line_error "install the criu package"
  [ "$(kist state ck-nocriu | jq -r .status)" = running ]
  run --separate-stderr env KIST_LIBCRIU=/nonexistent/libcriu.so.2 \
    "$KIST" --root "$KIST_ROOT" restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ck-nocriu2
  assert_one_line_error "install the criu package"
  [ "$(kist list -q)" = ck-nocriu ]
}

@test "checkpoint: restore from a missing or empty image directory fails and leaves nothing" {
  command -v criu >/dev/null || skip "criu is not installed (apt-get install criu)"
  run --separate-stderr kist restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/nothing" ck-missing
  assert_one_line_error "nothing"
  mkdir "$BATS_TEST_TMPDIR/empty"
  run --separate-stderr kist restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/empty" ck-missing
  assert_one_line_error "inventory.img"
  # conmon's --no-pivot is accepted (as runc does): the image is what fails.
  run --separate-stderr kist restore --no-pivot --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/empty" ck-missing
  assert_one_line_error "inventory.img"
  run --separate-stderr kist restore --lsm-profile unconfined --bundle "$BUNDLE" \
    --image-path "$BATS_TEST_TMPDIR/empty" ck-missing
  assert_one_line_error "--lsm-profile: expected TYPE:NAME"
  # A --pid-file that cannot be written is refused before CRIU runs.
  run --separate-stderr kist restore --pid-file "$BATS_TEST_TMPDIR/nodir/pid" --bundle "$BUNDLE" \
    --image-path "$BATS_TEST_TMPDIR/empty" ck-missing
  assert_one_line_error "--pid-file"
  assert_root_empty
  [ ! -e /sys/fs/cgroup/pids/kist-ck-missing ] && [ ! -e /sys/fs/cgroup/kist-ck-missing ]
}

@test "checkpoint: a bad --parent-path, a stopped container, a bad cgroups mode are refused" {
  command -v criu >/dev/null || skip "criu is not installed (apt-get install criu)"
  kist run -d --bundle "$BUNDLE" ck-bad </dev/null >/dev/null 2>&1
  run --separate-stderr kist checkpoint --parent-path ../nowhere --image-path "$BATS_TEST_TMPDIR/img" ck-bad
  assert_one_line_error "--parent-path"
  [ ! -e "$BATS_TEST_TMPDIR/img" ] || fail "the refused checkpoint left its image dir behind"
  # A failure after the image dir is made (here the work dir) removes it too.
  : >"$BATS_TEST_TMPDIR/afile"
  run --separate-stderr kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" \
    --work-path "$BATS_TEST_TMPDIR/afile/work" ck-bad
  assert_one_line_error "--work-path"
  [ ! -e "$BATS_TEST_TMPDIR/img" ] || fail "the failed checkpoint left its image dir behind"
  # Parents that mkdir -p made for it go too.
  run --separate-stderr kist checkpoint --image-path "$BATS_TEST_TMPDIR/new/deeper/img" \
    --work-path "$BATS_TEST_TMPDIR/afile/work" ck-bad
  assert_one_line_error "--work-path"
  [ ! -e "$BATS_TEST_TMPDIR/new" ] || fail "the failed checkpoint left $BATS_TEST_TMPDIR/new behind"
  [ "$(kist state ck-bad | jq -r .status)" = running ]
  run kist checkpoint --manage-cgroups-mode sometimes ck-bad
  assert_failure
  assert_output --partial "--manage-cgroups-mode"
  run kist checkpoint --empty-ns ipc ck-bad
  assert_failure
  assert_output --partial "--empty-ns"
  kist kill ck-bad KILL
  wait_for_status ck-bad stopped
  run kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-bad
  assert_failure
  assert_output --partial "only a running container"
  run kist checkpoint --image-path "$BATS_TEST_TMPDIR/img" ck-unknown
  assert_failure
  assert_output --partial "does not exist"
}

@test "checkpoint: restore under an id that exists is refused and the existing container is untouched" {
  command -v criu >/dev/null || skip "criu is not installed (apt-get install criu)"
  kist run -d --bundle "$BUNDLE" ck-dup </dev/null >/dev/null 2>&1
  mkdir "$BATS_TEST_TMPDIR/img" && : >"$BATS_TEST_TMPDIR/img/inventory.img"
  run kist restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ck-dup
  assert_failure
  assert_output --partial "already exists"
  [ "$(kist state ck-dup | jq -r .status)" = running ]
}

@test "checkpoint: --lazy-pages is refused clearly where libcriu cannot do it" {
  command -v criu >/dev/null || skip "criu is not installed (apt-get install criu)"
  local lib
  lib=$(ldconfig -p | awk '/libcriu\.so\.2 / { print $NF; exit }')
  [ -n "$lib" ] || skip "libcriu.so.2 not found by ldconfig"
  if nm -D "$lib" | grep -q criu_local_set_lazy_pages; then
    skip "this libcriu supports lazy pages (the VM-lane tests would cover it)"
  fi
  kist run -d --bundle "$BUNDLE" ck-lazy </dev/null >/dev/null 2>&1
  run --separate-stderr kist checkpoint --lazy-pages --image-path "$BATS_TEST_TMPDIR/img" ck-lazy
  assert_one_line_error "--lazy-pages"
  [ "$(kist state ck-lazy | jq -r .status)" = running ]
}
