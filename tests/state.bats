#!/usr/bin/env bats
# `kist state` and `kist list`: fields, live status, pid-reuse safety.

load helpers

setup() {
  setup_bundle sleep 100
  ID=ks$BATS_TEST_NUMBER-$$
}

teardown() {
  common_teardown
}

kcreate() {
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$@" \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null
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

@test "state: every field of state-schema plus runc's extras" {
  set_config '.annotations = {"org.example.key": "value \"quoted\""}'
  kcreate "$ID"
  run kist state "$ID"
  assert_success
  json=$output
  [ "$(jq -r .ociVersion <<<"$json")" = 1.3.0 ]
  [ "$(jq -r .id <<<"$json")" = "$ID" ]
  [ "$(jq -r .status <<<"$json")" = created ]
  [ "$(jq -r .pid <<<"$json")" -gt 0 ]
  [ "$(jq -r .bundle <<<"$json")" = "$(realpath "$BUNDLE")" ]
  [ "$(jq -r .rootfs <<<"$json")" = "$(realpath "$BUNDLE/rootfs")" ]
  [ "$(jq -r .owner <<<"$json")" = root ]
  [ "$(jq -r '.annotations["org.example.key"]' <<<"$json")" = 'value "quoted"' ]
  # created is RFC 3339 and close to now.
  created=$(jq -r .created <<<"$json")
  [[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]]
  t=$(date -d "$created" +%s)
  [ $(($(date +%s) - t)) -lt 60 ]
}

@test "state: created -> running -> stopped; a stopped container has pid 0" {
  kcreate "$ID"
  [ "$(kist state "$ID" | jq -r .status)" = created ]
  kist start "$ID"
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  pid=$(kist state "$ID" | jq -r .pid)
  kist kill "$ID" KILL
  wait_for_status "$ID" stopped
  [ "$(kist state "$ID" | jq -r .pid)" = 0 ]
  assert_dead "$pid"
}

@test "state: a live process with the init's pid but another start time is not the container" {
  kcreate "$ID"
  kist start "$ID"
  # Pretend the pid was reused: the recorded start time no longer matches.
  f=$KIST_ROOT/$ID/state.json
  jq -c '.starttime += 1' "$f" >"$f.new" && mv "$f.new" "$f"
  [ "$(kist state "$ID" | jq -r .status)" = stopped ]
  run kist kill "$ID" KILL
  assert_failure
  # The real process was not signalled.
  pid=$(jq -r .pid "$f")
  kill -0 "$pid"
  kill -9 "$pid"
}

@test "state: the state dir is private and state.json is not left half-written" {
  kcreate "$ID"
  [ "$(stat -c %a "$KIST_ROOT/$ID")" = 700 ]
  [ -z "$(find "$KIST_ROOT/$ID" -name '*.tmp*')" ]
  jq . "$KIST_ROOT/$ID/state.json" >/dev/null
}

@test "list: table, json and quiet" {
  kcreate "$ID-a"
  kcreate "$ID-b"
  kist start "$ID-b"
  run kist list -q
  assert_success
  assert_output "$ID-a
$ID-b"
  run kist list --format json
  assert_success
  [ "$(jq length <<<"$output")" = 2 ]
  [ "$(jq -r ".[] | select(.id == \"$ID-a\") | .status" <<<"$output")" = created ]
  [ "$(jq -r ".[] | select(.id == \"$ID-b\") | .status" <<<"$output")" = running ]
  run kist list
  assert_success
  assert_line --index 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER'
  assert_line --regexp "^$ID-b +[0-9]+ +running +$(realpath "$BUNDLE")"
}

@test "list: an empty or missing root lists nothing" {
  run kist list -q
  assert_success
  assert_output ""
  run kist list --format json
  assert_success
  assert_output "[]"
}

@test "list: a bad --format is an error" {
  run kist list --format yaml
  assert_failure
  assert_output --partial "format"
}
