#!/usr/bin/env bats
# Hostile sizes and timing: a huge or deeply nested config must be handled
# (refused or run) without a crash, a hang or state left behind, and two
# creates of the same id at once must leave exactly one container.

load ../helpers
load sec

setup() {
  sec_setup
  # The default cgroup /kist-<id> is shared by every state root on the
  # machine: ids are unique to this run (others may run this file too).
  U=rb$$
}

teardown() {
  sec_teardown
}

# crashed STATUS: exit statuses of a signal or a timeout.
crashed() {
  [ "$1" -ge 124 ] && [ "$1" -ne 126 ] && [ "$1" -ne 127 ]
}

# clean_outcome ID: after `run --separate-stderr kist ... ID`: no crash, a
# refusal is one line, and nothing is left once the container is deleted.
clean_outcome() {
  if crashed "$status"; then
    fail "$1: kist crashed or hung (exit $status): ${stderr:0:300}"
  fi
  if [ "$status" -ne 0 ] && [ "${#stderr_lines[@]}" -ne 1 ]; then
    fail "$1: exit $status with ${#stderr_lines[@]} lines on stderr: ${stderr:0:300}"
  fi
  kist delete --force "$1" >/dev/null 2>&1 || true
  assert_root_empty
}

@test "robustness: a 50 MB annotation is run or refused cleanly" {
  setup_bundle true
  python3 - "$BUNDLE/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c.setdefault("annotations", {})["org.example.big"] = "x" * (50 << 20)
json.dump(c, open(p, "w"))
PY
  [ "$(stat -c %s "$BUNDLE/config.json")" -gt $((50 << 20)) ]
  run --separate-stderr kist run --bundle "$BUNDLE" "big1-$U"
  clean_outcome "big1-$U"
  kist_create --bundle "$BUNDLE" "big2-$U"
  clean_outcome "big2-$U"
}

# 50 MB of environment cannot be exec'd (E2BIG): the failure must be clean.
@test "robustness: a 50 MB process.env fails cleanly" {
  setup_bundle true
  python3 - "$BUNDLE/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["env"] = ["V%d=%s" % (i, "y" * 1000) for i in range(50 * 1024)]
json.dump(c, open(p, "w"))
PY
  run --separate-stderr kist run --bundle "$BUNDLE" "bigenv-$U"
  assert_failure
  clean_outcome "bigenv-$U"
}

@test "robustness: 50 MB of mounts, args or garbage is refused or run cleanly" {
  setup_bundle true
  local kind
  for kind in mounts args garbage; do
    cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/config.orig"
    python3 - "$BUNDLE/config.json" "$kind" <<'PY'
import json, sys
p, kind = sys.argv[1], sys.argv[2]
c = json.load(open(p))
if kind == "mounts":
    c["mounts"] += [{"destination": "/tmp/m%d" % i, "type": "tmpfs", "source": "tmpfs"}
                    for i in range(600000)]
    json.dump(c, open(p, "w"))
elif kind == "args":
    c["process"]["args"] = ["true"] + ["a" * 100] * 500000
    json.dump(c, open(p, "w"))
else:
    with open(p, "w") as f:
        f.write('{"ociVersion": "1.3.0", "x": "' + "\\u00e9" * (9 << 20) + '"')
PY
    kist_create --bundle "$BUNDLE" "big-$kind-$U"
    clean_outcome "big-$kind-$U"
    cp "$BATS_TEST_TMPDIR/config.orig" "$BUNDLE/config.json"
  done
}

@test "robustness: deeply nested JSON (1,000,000 levels) is refused with one line" {
  setup_bundle true
  local where
  for where in top unknown-field annotations process; do
    python3 - "$BUNDLE/config.json" "$where" <<'PY'
import sys
p, where = sys.argv[1], sys.argv[2]
deep = "[" * 1000000 + "]" * 1000000
if where == "top":
    doc = deep
elif where == "unknown-field":
    doc = '{"ociVersion": "1.3.0", "root": {"path": "rootfs"}, "x": %s}' % deep
elif where == "annotations":
    doc = '{"ociVersion": "1.3.0", "root": {"path": "rootfs"}, "annotations": {"a": %s}}' % deep
else:
    doc = '{"ociVersion": "1.3.0", "root": {"path": "rootfs"}, "process": {"args": %s}}' % deep
open(p, "w").write(doc)
PY
    kist_create --bundle "$BUNDLE" "deep-$where-$U"
    assert_one_line_error config.json
    assert_root_empty
    run --separate-stderr kist check --bundle "$BUNDLE"
    [ "$status" -ne 0 ] && ! crashed "$status" || fail "check: exit $status"
  done
}

@test "robustness: deeply nested objects ({\"a\":{\"a\":...}}) are refused with one line" {
  setup_bundle true
  python3 - "$BUNDLE/config.json" <<'PY'
import sys
n = 200000
open(sys.argv[1], "w").write('{"ociVersion": "1.3.0", "x": ' + '{"a":' * n + "1" + "}" * n + "}")
PY
  kist_create --bundle "$BUNDLE" "deepobj-$U"
  assert_one_line_error config.json
  assert_root_empty
}

# ---- concurrency ----

# creates N ID: N `kist create` of the same ID started at the same moment
# (they wait on a fifo); prints their exit statuses.
creates() {
  local n=$1 id=$2 i go=$BATS_TEST_TMPDIR/go
  rm -f "$go"
  mkfifo "$go"
  for i in $(seq 1 "$n"); do
    (
      read -r _ <"$go"
      "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err.$i"
      echo $? >"$BATS_TEST_TMPDIR/rc.$i"
    ) 3>&- &
  done
  # Release them together: one line each, through a fifo kept open
  # read-write until all are done (a reader that opens it only after a
  # write-only end was closed would block for ever).
  exec 4<>"$go"
  for i in $(seq 1 "$n"); do echo go >&4; done
  wait
  exec 4>&-
  for i in $(seq 1 "$n"); do cat "$BATS_TEST_TMPDIR/rc.$i"; done
}

@test "robustness: two creates of the same id at once: exactly one wins, the other leaves nothing" {
  setup_bundle sleep 60
  local round rcs wins
  for round in $(seq 1 10); do
    rcs=$(creates 2 "same-$U")
    wins=$(grep -c '^0$' <<<"$rcs" || true)
    [ "$wins" -eq 1 ] || fail "round $round: $wins creates succeeded (exit statuses: $(echo $rcs))"
    grep -h . "$BATS_TEST_TMPDIR"/err.* | grep -q "already exists" ||
      fail "round $round: the loser did not say so: $(cat "$BATS_TEST_TMPDIR"/err.*)"
    # The winner is intact and is the only thing in the root.
    run kist state "same-$U"
    assert_success
    [ "$(jq -r .status <<<"$output")" = created ]
    run ls -A "$KIST_ROOT"
    assert_output "same-$U"
    kist delete --force "same-$U"
    assert_root_empty
    run ls -A "$KIST_ROOT"
    assert_output ""
  done
}

@test "robustness: eight creates of the same id at once: exactly one wins" {
  setup_bundle sleep 60
  local rcs wins
  rcs=$(creates 8 "same8-$U")
  wins=$(grep -c '^0$' <<<"$rcs" || true)
  [ "$wins" -eq 1 ] || fail "$wins creates succeeded (exit statuses: $(echo $rcs))"
  run ls -A "$KIST_ROOT"
  assert_output "same8-$U"
  kist delete --force "same8-$U"
  run ls -A "$KIST_ROOT"
  assert_output ""
}

@test "robustness: create racing delete --force of the same id leaves a consistent root" {
  setup_bundle sleep 60
  local i
  for i in $(seq 1 20); do
    "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "cd-$U" </dev/null >/dev/null 2>&1 &
    "$KIST" --root "$KIST_ROOT" delete --force "cd-$U" >/dev/null 2>&1 || true
    wait
    kist delete --force "cd-$U" >/dev/null 2>&1 || true
    run ls -A "$KIST_ROOT"
    assert_output ""
  done
}

# The default cgroup is /kist-<id> in every hierarchy, for every state root:
# the same id under two roots must not make one container's delete kill the
# other (nor make them share limits). Refusing the second create is fine.
@test "robustness: the same id under two state roots: deleting one leaves the other running" {
  setup_bundle sleep 60
  local id=sec-twin-$$-$RANDOM other=$BATS_TEST_TMPDIR/other-root
  kist run --detach --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
  if ! "$KIST" --root "$other" run --detach --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1; then
    kist delete --force "$id"
    return 0
  fi
  local pid
  pid=$("$KIST" --root "$other" state "$id" | jq -r .pid)
  kist delete --force "$id"
  sleep 0.5
  run "$KIST" --root "$other" state "$id"
  local st
  st=$(jq -r .status <<<"$output")
  "$KIST" --root "$other" delete --force "$id" >/dev/null 2>&1 || true
  [ "$st" = running ] || fail "deleting $id in one root killed $id of the other root (pid $pid): $st"
}
