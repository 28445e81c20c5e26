#!/usr/bin/env bats
# kill and delete, including every refusal.

load helpers

# PID 1 of a pid namespace ignores signals it has no handler for: trap TERM.
TRAPPER='trap "exit 0" TERM; while :; do sleep 0.1; done'

setup() {
  setup_bundle sh -c "$TRAPPER"
  ID=kd$BATS_TEST_NUMBER-$$
}

teardown() {
  common_teardown
}

kcreate() {
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$@" \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null
}

start_one() {
  kcreate "$1"
  kist start "$1"
}

# No cgroup dir of container $1 (the default /kist-ID, or one named ID) is left.
assert_no_cgroup() {
  [ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d \( -name "$1" -o -name "kist-$1" \) 2>/dev/null)" ]
}

# assert_dead PID: the process is gone (a zombie counts: only its parent can reap it).
assert_dead() {
  local i
  for i in $(seq 40); do
    [ -e "/proc/$1" ] || return 0
    grep -q ') [ZX] ' "/proc/$1/stat" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "process $1 is still alive" >&2
  return 1
}

@test "kill: TERM, SIGTERM, 15 and the default all deliver SIGTERM" {
  for sig in TERM SIGTERM 15 ""; do
    start_one "$ID-x"
    run kist kill "$ID-x" $sig
    assert_success
    wait_for_status "$ID-x" stopped
    kist delete "$ID-x"
  done
}

@test "kill: an unknown signal is an error and changes nothing" {
  start_one "$ID"
  run kist kill "$ID" NOSUCHSIG
  assert_failure
  assert_output --partial NOSUCHSIG
  [ "$(kist state "$ID" | jq -r .status)" = running ]
}

@test "kill: a created container can be killed" {
  kcreate "$ID"
  run kist kill "$ID" KILL
  assert_success
  wait_for_status "$ID" stopped
}

@test "kill: a stopped container is an error" {
  start_one "$ID"
  kist kill "$ID" KILL
  wait_for_status "$ID" stopped
  run kist kill "$ID" KILL
  assert_failure
  # "No such process": containerd's shim takes that as "already gone" (its
  # StopContainer sends KILL after TERM and failed on any other text).
  assert_output "kist: cannot kill container $ID: it is stopped: No such process"
}

@test "kill --all of a stopped container succeeds and reaches what is left in its cgroup" {
  # containerd's shim sends kill --all once the init has exited.
  start_one "$ID"
  kist kill "$ID" KILL
  wait_for_status "$ID" stopped
  run kist kill --all "$ID" KILL
  assert_success
  kist delete "$ID"
  # Without a pid namespace, processes outlive the init.
  set_config 'del(.linux.namespaces[] | select(.type == "pid")) | .process.args = ["sh", "-c", "sleep 1000 & exit 0"]'
  start_one "$ID-b"
  wait_for_status "$ID-b" stopped
  run kist ps --format json "$ID-b"
  assert_success
  [ "$(jq length <<<"$output")" = 1 ] || fail "expected the sleep in the cgroup: $output"
  run kist kill --all "$ID-b" KILL
  assert_success
  for i in $(seq 40); do
    [ "$(kist ps --format json "$ID-b" | jq length)" = 0 ] && break
    sleep 0.05
  done
  run kist ps --format json "$ID-b"
  assert_output "[]"
}

@test "kill: an unknown container is an error" {
  run kist kill nosuch KILL
  assert_failure
  assert_output --partial "does not exist"
}

@test "kill --all signals every process in the cgroup" {
  set_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
  start_one "$ID"
  pid=$(kist state "$ID" | jq -r .pid)
  # Wait for the two children.
  for i in $(seq 50); do
    [ "$(pgrep -P "$pid" | wc -l)" -ge 2 ] && break
    sleep 0.1
  done
  children=$(pgrep -P "$pid")
  run kist kill --all "$ID" KILL
  assert_success
  wait_for_status "$ID" stopped
  for c in $children; do
    assert_dead "$c"
  done
}

@test "delete: a running container is refused without --force" {
  start_one "$ID"
  run kist delete "$ID"
  assert_failure
  assert_output --partial running
  [ "$(kist state "$ID" | jq -r .status)" = running ]
}

@test "delete: a created container is refused without --force" {
  kcreate "$ID"
  run kist delete "$ID"
  assert_failure
  assert_output --partial created
}

@test "delete --force kills a running container and removes everything" {
  start_one "$ID"
  pid=$(kist state "$ID" | jq -r .pid)
  run kist delete --force "$ID"
  assert_success
  assert_dead "$pid"
  assert_root_empty
  assert_no_cgroup "$ID"
}

@test "delete -f of a created container works" {
  kcreate "$ID"
  run kist delete -f "$ID"
  assert_success
  assert_root_empty
}

@test "delete: a stopped container is removed" {
  start_one "$ID"
  kist kill "$ID"
  wait_for_status "$ID" stopped
  run kist delete "$ID"
  assert_success
  assert_root_empty
  assert_no_cgroup "$ID"
  run kist state "$ID"
  assert_failure
}

@test "delete of an unknown id is an error; with --force it succeeds" {
  run kist delete nosuch
  assert_failure
  assert_output --partial "does not exist"
  run kist delete --force nosuch
  assert_success
  assert_output ""
}

@test "delete: a failing poststop hook is only a warning" {
  set_config '.hooks = {"poststop": [{"path": "/bin/false"}]}'
  start_one "$ID"
  run kist delete --force "$ID"
  assert_success
  assert_output --partial warning
  assert_root_empty
}

@test "delete: processes left in the cgroup without a pid namespace are killed" {
  set_config 'del(.linux.namespaces[] | select(.type == "pid")) | .process.args = ["sh", "-c", "sleep 1000 & exit 0"]'
  start_one "$ID"
  wait_for_status "$ID" stopped
  run kist delete "$ID"
  assert_success
  assert_no_cgroup "$ID"
}
