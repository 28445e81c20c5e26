#!/usr/bin/env bats
# kist run: exit codes, signal forwarding, detach, keep, fds.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle true
  ID=kr$BATS_TEST_NUMBER-$$
}

teardown() {
  if [ -n "${RUN_STOPPED:-}" ]; then
    kill -KILL "$RUN_STOPPED" 2>/dev/null || true
  fi
  common_teardown
}

@test "run: exit code 0, the output comes through, the container is gone" {
  set_config '.process.args = ["sh", "-c", "echo out; echo err >&2"]'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_line out
  assert_line err
  assert_root_empty
}

@test "run: the process's exit code is kist's" {
  set_config '.process.args = ["sh", "-c", "exit 3"]'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_failure 3
  assert_root_empty
}

@test "run: killed by a signal exits 128+N" {
  set_config '.process.args = ["sleep", "100"]'
  kist run --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/out" 2>&1 &
  runpid=$!
  wait_for_status "$ID" running
  kist kill "$ID" KILL
  rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ]
  assert_root_empty
}

@test "run: signals sent to kist are forwarded to the process" {
  set_config '.process.args = ["sh", "-c", "trap \"echo got-term; exit 7\" TERM; echo ready; while :; do sleep 0.1; done"]'
  # Not through the kist() function: $! must be kist itself.
  "$KIST" --root "$KIST_ROOT" run --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/out" 2>&1 &
  runpid=$!
  # PID 1 of a pid namespace drops signals it has no handler for yet.
  for i in $(seq 100); do
    grep -q ready "$BATS_TEST_TMPDIR/out" && break
    sleep 0.05
  done
  kill -TERM "$runpid"
  rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 7 ]
  grep -q got-term "$BATS_TEST_TMPDIR/out"
}

@test "run: a command that does not exist exits 127 with a clear message" {
  set_config '.process.args = ["/no/such/binary"]'
  run -127 kist run --bundle "$BUNDLE" "$ID"
  assert_failure 127
  assert_output --partial "/no/such/binary"
  assert_root_empty
}

@test "run: a command that is not executable exits 126" {
  set_config '.process.args = ["/etc/passwd"]'
  run -126 kist run --bundle "$BUNDLE" "$ID"
  assert_failure 126
  assert_output --partial "/etc/passwd"
  assert_root_empty
}

@test "run -d: returns at once, the container runs, pid file written" {
  set_config '.process.args = ["sleep", "100"]'
  kist run -d --pid-file "$BATS_TEST_TMPDIR/pid" --bundle "$BUNDLE" "$ID" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(kist state "$ID" | jq -r .pid)" ]
  kist delete -f "$ID"
}

@test "run: a container deleted and made again under the same id before run cleans up is left alone" {
  # run stops (SIGSTOP) once its process has exited, before it removes the
  # container; meanwhile the id is deleted and created anew.
  KIST_TEST_STOP_AT=run:exited KIST_TEST_STOP_ACTION=stop \
    "$KIST" --root "$KIST_ROOT" run --bundle "$BUNDLE" "$ID" </dev/null \
    >"$BATS_TEST_TMPDIR/run.out" 2>&1 3>&- &
  runpid=$! # kist itself, not a subshell: its state is what is watched
  # Never left stopped, whatever fails below (bats waits for it).
  RUN_STOPPED=$runpid
  local st=
  for _ in $(seq 200); do
    st=$(awk '{ print $3 }' "/proc/$runpid/stat" 2>/dev/null) || st=gone
    [ "$st" = T ] || [ "$st" = gone ] || [ "$st" = Z ] && break
    sleep 0.05
  done
  [ "$st" = T ] || fail "run did not stop after its process exited ($st): $(cat "$BATS_TEST_TMPDIR/run.out")"
  [ "$(kist state "$ID" | jq -r .status)" = stopped ]
  kist delete "$ID"
  set_config '.process.args = ["sleep", "100"]'
  kist create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  kill -CONT "$runpid"
  rc=0
  wait "$runpid" || rc=$?
  RUN_STOPPED=
  [ "$rc" -eq 0 ] || fail "run exited $rc: $(cat "$BATS_TEST_TMPDIR/run.out")"
  # The new container is untouched: still there, still created.
  [ "$(kist state "$ID" | jq -r .status)" = created ]
  kist delete -f "$ID"
  assert_root_empty
}

@test "run --keep: the stopped container stays until deleted" {
  run kist run --keep --bundle "$BUNDLE" "$ID"
  assert_success
  [ "$(kist state "$ID" | jq -r .status)" = stopped ]
  kist delete "$ID"
  assert_root_empty
}

@test "run: only stdio reaches the container; --preserve-fds passes fds 3.." {
  set_config '.process.args = ["sh", "-c", "ls /proc/self/fd | tr \"\\n\" \" \""]'
  run kist run --bundle "$BUNDLE" "$ID" 3</dev/null 4</dev/null
  assert_success
  # 0 1 2 and the fd ls reads /proc/self/fd with.
  assert_output "0 1 2 3 "
  set_config '.process.args = ["sh", "-c", "echo via-fd3 >&3"]'
  kist run --preserve-fds 1 --bundle "$BUNDLE" "$ID" 3>"$BATS_TEST_TMPDIR/fd3"
  [ "$(cat "$BATS_TEST_TMPDIR/fd3")" = via-fd3 ]
}

@test "run: an id in use is refused and the running container is untouched" {
  set_config '.process.args = ["sleep", "100"]'
  kist run -d --bundle "$BUNDLE" "$ID" >/dev/null 2>&1 </dev/null
  run kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "already exists"
  [ "$(kist state "$ID" | jq -r .status)" = running ]
}

@test "run: terminal without --console-socket is relayed by kist" {
  set_config '.process.terminal = true | .process.args = ["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo is-a-tty"]'
  run kist run --bundle "$BUNDLE" "$ID" </dev/null
  assert_success
  assert_output --partial is-a-tty
}

@test "run: --help prints the usage" {
  run kist run --help
  assert_success
  assert_output --partial "Usage: kist run"
}

@test "run: a config without a process is refused before anything is made" {
  set_config 'del(.process)'
  run kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "process"
  assert_root_empty
}
