#!/usr/bin/env bats
# Crash consistency: kist killed with SIGKILL at every sync point of create,
# start, exec and delete. The test hook (src/libkist/testhook.h) stops kist
# at the named point (KIST_TEST_STOP_AT, KIST_TEST_STOP_ACTION=stop); while
# it is stopped, and again once it is killed, `state` and `list` must answer
# without crashing; then `delete -f` must remove everything (state dir,
# cgroups in every hierarchy, processes) and the same id must be usable again.

load ../helpers
load sec

setup() {
  sec_setup
  # A token in the environment of kist and of every container process: all
  # that a crashed kist may leave running is found through /proc/*/environ.
  MARK=secrel-crash-$$-$RANDOM$RANDOM
  ID=secrel-crash-$RANDOM$RANDOM
  setup_bundle sleep 1000
  set_config '.process.env += ["SECREL_MARK=" + $m]' --arg m "$MARK"
  STOPPED_PID=
}

teardown() {
  if [ -n "$STOPPED_PID" ]; then
    kill -KILL "$STOPPED_PID" 2>/dev/null || true
    wait "$STOPPED_PID" 2>/dev/null || true
  fi
  sec_teardown
  # After a failure: the cgroups this test's kist made, if empty (rmdir
  # refuses a cgroup with processes or children).
  local d
  for d in $(cgroup_dirs); do
    rmdir "$d" 2>/dev/null || true
  done
}

# Processes carrying this test's mark (kist itself, its helpers, the init
# and anything exec'd), as "pid comm" lines. Read only: never used to kill.
marked_pids() {
  local e pid
  for e in /proc/[0-9]*/environ; do
    pid=${e#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if tr '\0' '\n' 2>/dev/null <"$e" | grep -qxF "SECREL_MARK=$MARK"; then
      echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
    fi
  done
}

# The container's cgroup dirs that exist, in every hierarchy.
cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/kist-"$ID" /sys/fs/cgroup/*/kist-"$ID"; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}

# answers_sanely CMD...: `kist CMD` neither crashes nor hangs; a failure is
# one line on stderr.
answers_sanely() {
  run --separate-stderr timeout 20 "$KIST" --root "$KIST_ROOT" "$@"
  if [ "$status" -ge 124 ] && [ "$status" -ne 126 ] && [ "$status" -ne 127 ]; then
    fail "kist $* crashed or hung (exit $status): ${stderr:0:300}"
  fi
  if [ "$status" -ne 0 ] && [ "${#stderr_lines[@]}" -ne 1 ]; then
    fail "kist $*: exit $status with ${#stderr_lines[@]} lines on stderr: ${stderr:0:300}"
  fi
}

# stop_at POINT CMD...: runs `kist CMD` with the hook stopping it at POINT,
# waits until it is stopped there, checks state/list meanwhile, then kills
# it with SIGKILL.
stop_at() {
  local point=$1 i st=
  shift
  SECREL_MARK=$MARK KIST_TEST_STOP_AT=$point KIST_TEST_STOP_ACTION=stop \
    "$KIST" --root "$KIST_ROOT" "$@" </dev/null >"$BATS_TEST_TMPDIR/hooked.out" \
    2>"$BATS_TEST_TMPDIR/hooked.err" 3>&- &
  STOPPED_PID=$!
  for ((i = 0; i < 600; i++)); do
    st=$(awk '{ print $3 }' "/proc/$STOPPED_PID/stat" 2>/dev/null) || st=gone
    [ "$st" = T ] && break
    [ "$st" = gone ] || [ "$st" = Z ] && break
    sleep 0.05
  done
  if [ "$st" != T ]; then
    fail "kist $* did not stop at $point (state '$st'): $(cat "$BATS_TEST_TMPDIR/hooked.err")"
  fi
  grep -qF "stopping at $point" "$BATS_TEST_TMPDIR/hooked.err" ||
    fail "kist stopped, but not at $point: $(cat "$BATS_TEST_TMPDIR/hooked.err")"
  answers_sanely state "$ID"
  answers_sanely list
  kill -KILL "$STOPPED_PID"
  wait "$STOPPED_PID" 2>/dev/null || true
  STOPPED_PID=
  answers_sanely state "$ID"
  answers_sanely list
  answers_sanely list --format json
}

# all_gone: after `delete -f`, nothing of the container is left.
all_gone() {
  local left
  [ ! -e "$KIST_ROOT/$ID" ] || fail "state dir left: $(ls -A "$KIST_ROOT/$ID")"
  left=$(cgroup_dirs)
  [ -z "$left" ] || fail "cgroups left: $left"
  # A killed process may take a moment to be reaped by its parent.
  for _ in $(seq 50); do
    left=$(marked_pids)
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "processes left: $left"
  assert_root_empty
}

# recover: delete -f cleans up, and the id works again for a full lifecycle.
recover() {
  run --separate-stderr kist delete -f "$ID"
  [ "$status" -eq 0 ] || fail "delete -f after the crash: exit $status: $stderr"
  all_gone
  kist_create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ] || fail "create $ID again: exit $status: $stderr"
  run --separate-stderr kist start "$ID"
  assert_success
  wait_for_status "$ID" running
  run --separate-stderr kist delete -f "$ID"
  assert_success
  all_gone
}

crash_in_create() {
  stop_at "$1" create --bundle "$BUNDLE" "$ID"
  recover
}

crash_in_start() {
  kist_create --bundle "$BUNDLE" "$ID"
  assert_equal "$status" 0
  stop_at "$1" start "$ID"
  recover
}

crash_in_exec() {
  has_exec || skip "kist has no exec"
  kist_create --bundle "$BUNDLE" "$ID"
  assert_equal "$status" 0
  run kist start "$ID"
  assert_success
  stop_at "$1" exec "$ID" sleep 999
  recover
}

crash_in_delete() {
  kist_create --bundle "$BUNDLE" "$ID"
  assert_equal "$status" 0
  run kist start "$ID"
  assert_success
  stop_at "$1" delete -f "$ID"
  recover
}

@test "crash: create killed after making the state dir" { crash_in_create create:statedir; }
@test "crash: create killed with the cgroup state half-written" { crash_in_create write:cgroup; }
@test "crash: create killed after the first cgroup dir" { crash_in_create cgroup:mkdir; }
@test "crash: create killed after making the cgroups" { crash_in_create create:cgroup; }
@test "crash: create killed after cloning the init" { crash_in_create create:clone; }
@test "crash: create killed once the init is ready" { crash_in_create create:ready; }
@test "crash: create killed with state.json half-written" { crash_in_create write:state.json; }
@test "crash: create killed after saving the state" { crash_in_create create:saved; }
@test "crash: create killed before releasing its lock" { crash_in_create create:done; }

@test "crash: start killed holding the lock" { crash_in_start start:locked; }
@test "crash: start killed after the init executed" { crash_in_start start:exec; }
@test "crash: start killed with state.json half-written" { crash_in_start write:state.json; }
@test "crash: start killed after saving the state" { crash_in_start start:saved; }

@test "crash: exec killed after cloning its helper" { crash_in_exec exec:clone; }
@test "crash: exec killed after placing the helper" { crash_in_exec exec:go; }
@test "crash: exec killed once the process runs" { crash_in_exec exec:started; }

@test "crash: delete killed after killing the processes" { crash_in_delete delete:killed; }
@test "crash: delete killed after removing the cgroups" { crash_in_delete delete:cgroup; }

@test "crash: the hook is inert without KIST_TEST_STOP_AT" {
  KIST_TEST_STOP_AT= KIST_TEST_STOP_ACTION=kill kist_create --bundle "$BUNDLE" "$ID"
  assert_equal "$status" 0
  wait_for_status "$ID" created
  run kist delete -f "$ID"
  assert_success
  all_gone
}

@test "crash: KIST_TEST_STOP_ACTION=kill kills kist at the point" {
  status=0
  SECREL_MARK=$MARK KIST_TEST_STOP_AT=create:ready "$KIST" --root "$KIST_ROOT" \
    create --bundle "$BUNDLE" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- || status=$?
  assert_equal "$status" 137
  grep -qF "stopping at create:ready" "$BATS_TEST_TMPDIR/out"
  recover
}

# Half-written state files, as a crash of a non-atomic writer or a full disk
# would leave them: state and list answer, delete -f still cleans up.
@test "crash: truncated and garbage state.json" {
  local bad
  for bad in '' '{' '{"status":"running","pid":' 'not json' '{"status":7,"pid":"x"}' '[1,2]'; do
    kist_create --bundle "$BUNDLE" "$ID"
    assert_equal "$status" 0
    printf '%s' "$bad" >"$KIST_ROOT/$ID/state.json"
    answers_sanely state "$ID"
    answers_sanely list
    recover
  done
}
