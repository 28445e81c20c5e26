#!/usr/bin/env bats
# Valgrind (memcheck) on the commands that parse and print without making a
# container: `features`, `spec`, `state` and `list` (with a created and a
# running container, and on half-written state), `check`: no leak, no
# invalid read or write, no use of uninitialised memory.

load ../helpers
load sec

setup() {
  command -v valgrind >/dev/null || skip "valgrind is not installed (contrib/deps.sh installs it)"
  sec_setup
  ID=secrel-vg-$RANDOM$RANDOM
  setup_bundle sleep 1000
}

teardown() {
  sec_teardown
}

# vg ARGS...: `kist ARGS` under memcheck; fails with valgrind's report.
vg() {
  local log=$BATS_TEST_TMPDIR/vg.log
  run --separate-stderr valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --log-file="$log" \
    "$KIST" --root "$KIST_ROOT" "$@"
  # "--PID--" lines are valgrind's own notes (syscalls it does not know,
  # seccomp and openat2, fail with ENOSYS there: kist falls back); its
  # reports are "==PID==" lines.
  if [ "$status" -eq 99 ] || grep -q '^==' "$log"; then
    fail "valgrind: kist $*: $(grep -v '^--' "$log" | head -c 3000)"
  fi
}

@test "valgrind: features and spec" {
  vg features
  assert_success
  echo "$output" | jq -e .ociVersionMin >/dev/null
  mkdir -p "$BATS_TEST_TMPDIR/spec"
  vg spec --bundle "$BATS_TEST_TMPDIR/spec"
  assert_success
  mkdir -p "$BATS_TEST_TMPDIR/spec2"
  vg spec --rootless --bundle "$BATS_TEST_TMPDIR/spec2"
  assert_success
}

@test "valgrind: state and list of created, running and broken containers" {
  vg list
  assert_success
  kist_create --bundle "$BUNDLE" "$ID"
  assert_equal "$status" 0
  vg state "$ID"
  assert_success
  vg list
  assert_success
  vg list --format json
  assert_success
  run kist start "$ID"
  assert_success
  vg state "$ID"
  assert_success
  assert_output --partial '"running"'
  vg list -q
  assert_success
  vg state no-such-container
  assert_failure
  printf '{"status":' >"$KIST_ROOT/$ID/state.json"
  vg state "$ID"
  assert_failure
  vg list
  assert_success
}

@test "valgrind: check of a full config" {
  vg check --bundle "$BUNDLE"
  cp "$REPO/tests/fixtures/config-good/full-linux.json" "$BUNDLE/config.json"
  vg check --bundle "$BUNDLE"
}
