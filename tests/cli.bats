#!/usr/bin/env bats
# The command line itself: global flags, help, version, spec, features, and
# how usage errors are reported (exit 1, one line on stderr).

load helpers
bats_require_minimum_version 1.5.0

SCHEMA_DIR=$REPO/libocispec/schema

setup() {
  # No silent skipping: without a binary every test here fails and says why.
  if [ ! -x "$KIST" ]; then
    fail "no kist binary at $KIST (build it: cd build && make)"
  fi
  cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
  common_teardown
}

@test "--version names the version, the commit, spec 1.3.0 and the compiled-in features" {
  run --separate-stderr "$KIST" --version
  assert_success
  assert_line --regexp '^kist version [0-9]+\.[0-9]+\.[0-9]+'
  assert_line --regexp '^commit: [^ ]+'
  assert_line 'spec: 1.3.0'
  assert_output --partial '+SECCOMP'
  assert_output --partial '+CAP'
  assert_output --partial '+YAJL'
  [ -z "$stderr" ]
}

@test "-v is --version" {
  run "$KIST" -v
  assert_success
  assert_line 'spec: 1.3.0'
}

@test "kist help and kist --help list the commands" {
  for cmd in help --help; do
    run --separate-stderr "$KIST" "$cmd"
    assert_success
    assert_output --partial 'Usage: kist'
    for name in spec features check; do
      assert_line --regexp "^ +$name "
    done
    [ -z "$stderr" ]
  done
}

@test "kist with no command prints the help on stderr and fails" {
  run --separate-stderr "$KIST"
  assert_failure 1
  [ -z "$output" ]
  [[ "$stderr" == *"Usage: kist"* ]]
}

@test "kist spec --help and kist help spec show the spec usage" {
  run --separate-stderr "$KIST" spec --help
  assert_success
  assert_output --partial 'kist spec'
  assert_output --partial '--bundle'
  assert_output --partial '--rootless'
  local by_flag=$output
  run --separate-stderr "$KIST" help spec
  assert_success
  assert_equal "$output" "$by_flag"
  # Nothing was written by asking for help.
  [ ! -e config.json ]
}

@test "every command has --help" {
  run "$KIST" help
  local cmds
  cmds=$(awk '/^Commands:/ { on = 1; next } on && $1 != "help" { print $1 }' <<<"$output")
  [ -n "$cmds" ]
  for cmd in $cmds; do
    run --separate-stderr "$KIST" "$cmd" --help
    [ "$status" -eq 0 ] || fail "kist $cmd --help: exit $status: $stderr"
    [[ "$output" == *"kist $cmd"* ]] || fail "kist $cmd --help does not name itself: $output"
  done
}

@test "kist help for an unknown command fails with one line" {
  run --separate-stderr "$KIST" help no-such-command
  assert_one_line_error 'no-such-command'
}

@test "spec writes a config.json in the current directory that kist check accepts" {
  run --separate-stderr "$KIST" spec
  assert_success
  [ -z "$output" ]
  [ -s config.json ]
  jq -e . config.json >/dev/null
  copy_rootfs rootfs
  run --separate-stderr "$KIST" check --bundle .
  [ "$status" -eq 0 ] || fail "kist check rejected kist spec's config: $stderr"
}

@test "spec's config is valid against the runtime-spec 1.3.0 schema" {
  "$KIST" spec
  run validate_json "$SCHEMA_DIR/config-schema.json" config.json
  assert_success
  assert_equal "$(jq -r .ociVersion config.json)" 1.3.0
  assert_equal "$(jq -r .root.path config.json)" rootfs
  assert_equal "$(jq -r .process.terminal config.json)" true
  jq -e '.linux.namespaces | map(.type) | index("pid") and index("mount")' config.json >/dev/null
}

@test "spec --bundle DIR writes DIR/config.json" {
  mkdir b1
  run --separate-stderr "$KIST" spec --bundle b1
  assert_success
  [ -s b1/config.json ]
  [ ! -e config.json ]
  copy_rootfs b1/rootfs
  "$KIST" check --bundle "$BATS_TEST_TMPDIR/b1"
}

@test "spec --rootless writes a config with a user namespace mapping the caller" {
  "$KIST" spec --rootless
  run validate_json "$SCHEMA_DIR/config-schema.json" config.json
  assert_success
  jq -e '.linux.namespaces | map(.type) | index("user")' config.json >/dev/null
  assert_equal "$(jq -r '.linux.uidMappings[0].hostID' config.json)" "$(id -u)"
  assert_equal "$(jq -r '.linux.gidMappings[0].hostID' config.json)" "$(id -g)"
  copy_rootfs rootfs
  "$KIST" check --bundle .
}

@test "spec refuses to overwrite an existing config.json" {
  echo '{"mine": true}' >config.json
  local before
  before=$(sha256sum config.json)
  run --separate-stderr "$KIST" spec
  assert_one_line_error 'config.json'
  assert_equal "$(sha256sum config.json)" "$before"
  [ -z "$output" ]
}

@test "spec refuses to overwrite its own config.json too" {
  "$KIST" spec --bundle .
  local before
  before=$(sha256sum config.json)
  run --separate-stderr "$KIST" spec --bundle .
  assert_one_line_error 'exists'
  assert_equal "$(sha256sum config.json)" "$before"
}

@test "spec into a missing bundle directory fails with one line" {
  run --separate-stderr "$KIST" spec --bundle "$BATS_TEST_TMPDIR/missing"
  assert_one_line_error 'missing'
  [ ! -e "$BATS_TEST_TMPDIR/missing" ]
}

@test "spec with an unexpected argument fails with one line" {
  run --separate-stderr "$KIST" spec extra-arg
  assert_one_line_error 'extra-arg'
  [ ! -e config.json ]
}

@test "check on a bundle without config.json fails with one line" {
  mkdir -p empty/rootfs
  run --separate-stderr "$KIST" check --bundle empty
  assert_one_line_error 'config.json'
}

@test "features prints JSON valid against the runtime-spec features schema" {
  run --separate-stderr "$KIST" features
  assert_success
  [ -z "$stderr" ]
  printf '%s\n' "$output" >features.json
  jq -e . features.json >/dev/null
  run validate_json "$SCHEMA_DIR/features-schema.json" features.json
  assert_success
  assert_equal "$(jq -r .ociVersionMax features.json)" 1.3.0
  assert_equal "$(jq -r .ociVersionMin features.json)" 1.0.0
}

@test "features lists the hooks, namespaces and seccomp support kist has" {
  "$KIST" features >features.json
  for hook in prestart createRuntime createContainer startContainer poststart poststop; do
    jq -e --arg h "$hook" '.hooks | index($h)' features.json >/dev/null ||
      fail "features: hook $hook missing"
  done
  for ns in pid mount ipc uts network user cgroup; do
    jq -e --arg n "$ns" '.linux.namespaces | index($n)' features.json >/dev/null ||
      fail "features: namespace $ns missing"
  done
  jq -e '.linux.seccomp.enabled == true' features.json >/dev/null
  jq -e '.linux.seccomp.actions | index("SCMP_ACT_ERRNO")' features.json >/dev/null
}

@test "an unknown command fails with one line naming it" {
  run --separate-stderr "$KIST" no-such-command
  assert_one_line_error 'no-such-command'
  [ -z "$output" ]
}

@test "an unknown global flag fails with one line naming it" {
  run --separate-stderr "$KIST" --no-such-flag spec
  assert_one_line_error '--no-such-flag'
  [ ! -e config.json ]
}

@test "an unknown command flag fails with one line naming it" {
  run --separate-stderr "$KIST" spec --no-such-flag
  assert_one_line_error '--no-such-flag'
  [ ! -e config.json ]
}

@test "a global flag without its value fails with one line" {
  run --separate-stderr "$KIST" --root
  assert_one_line_error 'root'
}

@test "--rootless takes a boolean" {
  run --separate-stderr "$KIST" --rootless maybe features
  assert_one_line_error 'maybe'
  run "$KIST" --rootless false features
  assert_success
}

@test "--log-format takes text or json" {
  run --separate-stderr "$KIST" --log-format yaml features
  assert_one_line_error 'yaml'
  run "$KIST" --log-format json features
  assert_success
}

@test "--log FILE gets the error too" {
  run --separate-stderr "$KIST" --log "$BATS_TEST_TMPDIR/kist.log" spec --bundle /nonexistent-kist-dir
  assert_one_line_error 'nonexistent-kist-dir'
  grep -q 'nonexistent-kist-dir' "$BATS_TEST_TMPDIR/kist.log"
}

@test "--log-format json writes JSON log lines" {
  run --separate-stderr "$KIST" --log "$BATS_TEST_TMPDIR/kist.log" --log-format json \
    spec --bundle /nonexistent-kist-dir
  assert_failure 1
  [ -s "$BATS_TEST_TMPDIR/kist.log" ]
  while IFS= read -r line; do
    jq -e '.msg | type == "string"' <<<"$line" >/dev/null || fail "not a JSON log line: $line"
  done <"$BATS_TEST_TMPDIR/kist.log"
}

@test "--root is honoured by commands that use the state store" {
  require_command list
  run --separate-stderr "$KIST" --root "$KIST_ROOT" list -q
  assert_success
  [ -z "$output" ]
}
