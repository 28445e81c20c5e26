#!/usr/bin/env bats
# contrib/completion/kist.bash: sourced into the test shell, _kist is called
# the way bash calls it (COMP_WORDS, COMP_CWORD) and COMPREPLY is checked.

load helpers

COMPLETION=$REPO/contrib/completion/kist.bash

# complete WORD...: runs the completion with the cursor on the last WORD and
# prints COMPREPLY one per line, sorted.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _kist
  printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}

# The commands kist itself lists (without "help").
kist_commands() {
  "$KIST" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort
}

# long_flags FILE: the long option names of the `struct option` tables.
long_flags() {
  # Entries may span lines (clang-format wraps macros): join them first.
  tr '\n\\' '  ' <"$1" | grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' |
    sed -E 's/^\{ *"([^"]*)".*/\1/' | sort -u
}

setup() {
  # shellcheck source=/dev/null
  source "$COMPLETION"
}

teardown() {
  common_teardown
}

@test "completion: registers _kist for kist" {
  run complete -p kist
  assert_success
  assert_output --partial "-F _kist"
}

@test "completion: an empty word offers every command kist --help lists" {
  run complete_words "$KIST" ""
  assert_success
  local expected
  expected=$(kist_commands)
  [ -n "$expected" ]
  assert_output "$expected"
  # The lifecycle commands are always there.
  local c
  for c in create start run state kill delete list spec features check help; do
    assert_line "$c"
  done
}

@test "completion: a prefix narrows the commands" {
  run complete_words "$KIST" cr
  assert_success
  assert_output create
  run complete_words "$KIST" s
  assert_output "$(printf '%s\n' spec start state | sort)"
  run complete_words "$KIST" zz
  assert_output ""
}

@test "completion: commands after global options and their values" {
  run complete_words "$KIST" --root /tmp/x --debug ""
  assert_line create
  assert_line list
  run complete_words "$KIST" -root /tmp/x de
  assert_output delete
  run complete_words "$KIST" --log /tmp/log --log-format json ru
  assert_output run
}

@test "completion: global flags and their values" {
  run complete_words "$KIST" --
  local f
  for f in $(long_flags "$REPO/src/kist.c"); do
    assert_line -- "--$f"
  done
  run complete_words "$KIST" --log-format ""
  assert_output "$(printf '%s\n' json text)"
  run complete_words "$KIST" --rootless ""
  assert_output "$(printf '%s\n' auto false true)"
}

@test "completion: every command offers every long flag of its source" {
  # Flags its --help does not mention (accepted for runc compatibility and
  # refused, like update --l3-cache-schema) are not offered.
  local src cmd f help missing= n=0
  for src in "$REPO"/src/cmd-*.c; do
    cmd=$(basename "$src" .c)
    cmd=${cmd#cmd-}
    help=$("$KIST" help "$cmd")
    run complete_words "$KIST" "$cmd" --
    for f in $(long_flags "$src"); do
      grep -qE -- "--$f([^a-z0-9-]|\$)" <<<"$help" || continue
      [[ $'\n'"$output"$'\n' == *$'\n'"--$f"$'\n'* ]] || missing+=" $cmd:--$f"
      n=$((n + 1))
    done
  done
  [ "$n" -ge 15 ] || fail "only $n flags found in src/cmd-*.c"
  [ -z "$missing" ] || fail "not completed:$missing"
}

@test "completion: option values of commands" {
  run complete_words "$KIST" list --format ""
  assert_output "$(printf '%s\n' json table)"
  run complete_words "$KIST" list -f j
  assert_output json
  mkdir -p "$BATS_TEST_TMPDIR/bundles/b1" "$BATS_TEST_TMPDIR/bundles/b2"
  touch "$BATS_TEST_TMPDIR/bundles/file"
  run complete_words "$KIST" run --bundle "$BATS_TEST_TMPDIR/bundles/"
  assert_output "$(printf '%s\n' "$BATS_TEST_TMPDIR/bundles/b1" "$BATS_TEST_TMPDIR/bundles/b2")"
}

@test "completion: kill offers signal names after the id" {
  run complete_words "$KIST" kill c1 ""
  assert_line TERM
  assert_line KILL
  assert_line HUP
  run complete_words "$KIST" kill c1 SIGTE
  assert_output SIGTERM
  run complete_words "$KIST" kill --all c1 KI
  assert_output KILL
}

@test "completion: help offers the commands" {
  run complete_words "$KIST" help cre
  assert_output create
}

@test "completion: without a runnable kist the built-in command list is used" {
  run complete_words /nonexistent/kist ""
  assert_success
  local c
  for c in create start run state kill delete list spec features check exec ps pause \
    resume update events checkpoint restore help; do
    assert_line "$c"
  done
}

@test "completion: container ids come from kist list -q under --root" {
  [ "$(id -u)" = 0 ] || skip "creating a container needs root"
  setup_bundle sleep 100
  kist create --bundle "$BUNDLE" comp-one
  kist create --bundle "$BUNDLE" comp-two
  run complete_words "$KIST" --root "$KIST_ROOT" state ""
  assert_output "$(printf '%s\n' comp-one comp-two)"
  run complete_words "$KIST" --root="$KIST_ROOT" kill comp-o
  assert_output comp-one
  run complete_words "$KIST" -root "$KIST_ROOT" delete --force comp-t
  assert_output comp-two
  # create takes a new id: nothing is offered.
  run complete_words "$KIST" --root "$KIST_ROOT" create comp
  assert_output ""
  # Another root has other containers (none).
  run complete_words "$KIST" --root "$BATS_TEST_TMPDIR/empty" state ""
  assert_output ""
}
