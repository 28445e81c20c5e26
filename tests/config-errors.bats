#!/usr/bin/env bats
# Every invalid config in tests/fixtures/config-bad/NAME.json must be refused by
# `kist check` and by `kist create` with exit status 1 and exactly one line on
# stderr containing the text in NAME.expect, and must leave no state behind.
#
# One test walks all fixtures and lists every one that misbehaves (rather than
# stopping at the first), so a single run shows the whole picture.

load helpers

FIXTURES=$REPO/tests/fixtures/config-bad

setup() {
  if [ ! -x "$KIST" ]; then
    fail "no kist binary at $KIST (build it: cd build && make)"
  fi
}

teardown() {
  common_teardown
}

# check_fixture NAME COMMAND...: runs kist --root $KIST_ROOT COMMAND... on a
# bundle holding fixture NAME; prints what is wrong (nothing when all is well).
check_fixture() {
  local name=$1 bundle=$BATS_TEST_TMPDIR/b-$1 want rc=0 lines
  shift
  want=$(<"$FIXTURES/$name.expect")
  mkdir -p "$bundle/rootfs"
  cp "$FIXTURES/$name.json" "$bundle/config.json"
  timeout 30 "$KIST" --root "$KIST_ROOT" "$@" >"$bundle/out" 2>"$bundle/err" </dev/null || rc=$?
  lines=$(wc -l <"$bundle/err")
  # A last line without a newline is a line too.
  [ -s "$bundle/err" ] && [ -n "$(tail -c 1 "$bundle/err")" ] && lines=$((lines + 1))
  if [ "$rc" -ne 1 ]; then
    echo "$name: kist $1: exit status $rc, expected 1"
  fi
  if [ "$lines" -ne 1 ]; then
    echo "$name: kist $1: $lines lines on stderr, expected 1"
  fi
  if ! grep -qF -- "$want" "$bundle/err"; then
    echo "$name: kist $1: stderr does not contain '$want'"
  fi
  if [ "$rc" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$bundle/err"; then
    sed 's/^/    stderr: /' "$bundle/err"
    sed 's/^/    stdout: /' "$bundle/out"
  fi
  if ! assert_root_empty 2>/dev/null; then
    echo "$name: kist $1: state left in $KIST_ROOT: $(ls -A "$KIST_ROOT" | tr '\n' ' ')"
    cleanup_containers
    rm -rf "${KIST_ROOT:?}"/*
  fi
}

# run_fixtures COMMAND-TEMPLATE...: check_fixture for every fixture; the words
# BUNDLE and ID in the template stand for each fixture's bundle and id.
# Fails listing every problem.
run_fixtures() {
  local json name report='' n=0 bad=0 problems arg args
  for json in "$FIXTURES"/*.json; do
    name=$(basename "$json" .json)
    args=()
    for arg in "$@"; do
      case "$arg" in
      BUNDLE) args+=("$BATS_TEST_TMPDIR/b-$name") ;;
      ID) args+=("bad-$name") ;;
      *) args+=("$arg") ;;
      esac
    done
    problems=$(check_fixture "$name" "${args[@]}")
    n=$((n + 1))
    if [ -n "$problems" ]; then
      bad=$((bad + 1))
      report+="$problems"$'\n'
    fi
  done
  if [ "$bad" -ne 0 ]; then
    printf '%s' "$report"
    fail "$bad of $n bad configs were not refused as expected (kist $1)"
  fi
  echo "# $n bad configs refused by kist $1" >&3
}

@test "there are at least 30 bad-config fixtures, each with its .expect" {
  local json name count=0
  for json in "$FIXTURES"/*.json; do
    name=$(basename "$json" .json)
    [ -s "$FIXTURES/$name.expect" ] || fail "$name.json has no (or an empty) $name.expect"
    count=$((count + 1))
  done
  for expect in "$FIXTURES"/*.expect; do
    [ -f "${expect%.expect}.json" ] || fail "$(basename "$expect") has no .json"
  done
  [ "$count" -ge 30 ] || fail "only $count fixtures in $FIXTURES (want at least 30)"
}

@test "kist check refuses every bad config with one line naming the problem" {
  run_fixtures check --bundle BUNDLE
}

@test "kist create refuses every bad config with one line and leaves no state" {
  require_command create
  run_fixtures create --bundle BUNDLE ID
}

@test "kist run refuses every bad config with one line and leaves no state" {
  require_command run
  run_fixtures run --bundle BUNDLE ID
}
