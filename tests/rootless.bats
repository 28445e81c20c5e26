#!/usr/bin/env bats
# kist run by an unprivileged user. tests/rootless/run.sh runs this file as
# its test user (KIST_ROOTLESS=1, XDG_RUNTIME_DIR set, /etc/subuid ranges).

load helpers

setup() {
  rootless_mode || skip "run by tests/rootless/run.sh as an unprivileged user"
  setup_bundle true
  ID=krl$BATS_TEST_NUMBER-$$
}

teardown() {
  rootless_mode || return 0
  if [ -n "${XDG_ID:-}" ]; then
    "$KIST" delete --force "$XDG_ID" >/dev/null 2>&1 || true
  fi
  common_teardown
}

# The first subordinate id range of this user in FILE: "start count".
subids() {
  awk -F: -v u="$(id -un)" -v n="$(id -u)" '($1 == u || $1 == n) && NF >= 3 { print $2, $3; exit }' "$1"
}

# Can this user make a cgroup next to its own (a delegated subtree)? kist
# puts a rootless container there (the parent of its own v2 cgroup).
cgroup_delegated() {
  local own
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w "/sys/fs/cgroup${own%/*}" ]
}

@test "the state root defaults to \$XDG_RUNTIME_DIR/kist" {
  [ -n "${XDG_RUNTIME_DIR:-}" ]
  XDG_ID=$ID
  set_config '.process.args = ["sleep", "100"]'
  "$KIST" create --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null
  [ -f "$XDG_RUNTIME_DIR/kist/$ID/state.json" ]
  run "$KIST" state "$ID"
  assert_success
  assert_equal "$(jq -r .status <<<"$output")" created
  assert_equal "$(jq -r .owner <<<"$output")" "$(id -un)"
  run "$KIST" delete --force "$ID"
  assert_success
  [ ! -e "$XDG_RUNTIME_DIR/kist/$ID" ]
}

@test "without XDG_RUNTIME_DIR the error says what to set" {
  run --separate-stderr env -u XDG_RUNTIME_DIR "$KIST" run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "XDG_RUNTIME_DIR is not set"
  [[ "$stderr" == *"--root"* ]]
  # --root still works.
  run kist run --bundle "$BUNDLE" "$ID"
  assert_success
}

@test "container root is the user's own uid on the host" {
  set_config '.process.args = ["sleep", "100"]'
  kist run -d --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null
  pid=$(kist state "$ID" | jq -r .pid)
  run awk '/^Uid:/ { print $2, $3 } /^Gid:/ { print $2, $3 }' "/proc/$pid/status"
  assert_output "$(id -u) $(id -u)
$(id -g) $(id -g)"
  run kist exec "$ID" sh -c 'id -u; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 0
  assert_line --index 1 --regexp "^ +0 +$(id -u) +1$"
}

@test "ranges from /etc/subuid are mapped through newuidmap" {
  read -r ustart ucount < <(subids /etc/subuid)
  read -r gstart gcount < <(subids /etc/subgid)
  [ -n "$ustart" ] && [ -n "$gstart" ] || skip "no /etc/subuid or /etc/subgid range for $(id -un)"
  [ "$ucount" -ge 2000 ] && [ "$gcount" -ge 2000 ] || skip "subordinate ranges smaller than 2000"
  set_config '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $us, size: 1999}]
    | .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $gs, size: 1999}]
    | .process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"]
    | .process.capabilities.permitted += ["CAP_CHOWN"]
    | .process.args = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /owned; chown 1000:1000 /owned"]' \
    --argjson u "$(id -u)" --argjson g "$(id -g)" --argjson us "$ustart" --argjson gs "$gstart"
  run kist run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_line --regexp "^ +1 +$ustart +1999$"
  assert_line --regexp "^ +1 +$gstart +1999$"
  # uid 1000 in the container is the 1000th id of the range on the host.
  run stat -c '%u %g' "$BUNDLE/rootfs/owned"
  assert_output "$((ustart + 999)) $((gstart + 999))"
  rm -f "$BUNDLE/rootfs/owned"
}

@test "host ids outside the user's ranges are refused before anything runs" {
  set_config '.linux.uidMappings += [{containerID: 1, hostID: 0, size: 1}]'
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "host uids 0-0 are outside"
  assert_root_empty
}

@test "a config without a user namespace is refused with the fix" {
  set_config '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "has no user namespace"
  [[ "$stderr" == *"kist spec --rootless"* ]]
  assert_root_empty
}

@test "what needs root fails with why and what to change, never a bare EPERM" {
  local cases=(
    '.linux.devices = [{path: "/dev/kist-rootless-nope", type: "c", major: 1, minor: 3}]|cannot create device nodes'
    '.mounts += [{destination: "/mnt", type: "ext4", source: "/dev/sda1"}]|cannot be mounted without root'
    '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 2147483647, soft: 1024}]|lower it in config.json'
    '.process.ioPriority = {class: "IOPRIO_CLASS_RT", priority: 0}|use IOPRIO_CLASS_BE'
    '.process.oomScoreAdj = -1000|CAP_SYS_RESOURCE'
    'del(.linux.namespaces[] | select(.type == "pid"))|add {"type": "pid"} to linux.namespaces'
  )
  local c filter want
  for c in "${cases[@]}"; do
    filter=${c%|*} want=${c##*|}
    cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/saved.json"
    set_config "$filter"
    run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
    assert_one_line_error "$want"
    if [[ "$stderr" == *"Operation not permitted" ]]; then
      fail "bare EPERM for $filter: $stderr"
    fi
    assert_root_empty
    cp "$BATS_TEST_TMPDIR/saved.json" "$BUNDLE/config.json"
  done
}

@test "cgroup limits without a delegated cgroup are refused, naming the way out" {
  if cgroup_delegated; then
    skip "this user has a delegated cgroup v2 subtree: limits work"
  fi
  set_config '.linux.resources = {pids: {limit: 100}}'
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "linux.resources: the config sets pids limits"
  [[ "$stderr" == *"Delegate=yes"* ]]
  assert_root_empty
}

@test "no cgroup: one warning per session, then ps, kill --all and pause still answer" {
  if cgroup_delegated; then
    skip "this user has a delegated cgroup v2 subtree: the container gets a cgroup"
  fi
  # A session of its own: the lane's has been warned already.
  mkdir -m 700 "$BATS_TEST_TMPDIR/xdg"
  run --separate-stderr env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg" "$KIST" --root "$KIST_ROOT" \
    run --bundle "$BUNDLE" "$ID-a"
  assert_success
  [[ "$stderr" == *"warning: container $ID-a runs without a cgroup of its own"* ]]
  run --separate-stderr env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg" "$KIST" --root "$KIST_ROOT" \
    run --bundle "$BUNDLE" "$ID-b"
  assert_success
  assert_equal "$stderr" ""

  set_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
  kist run -d --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null
  pid=$(kist state "$ID" | jq -r .pid)
  for _ in $(seq 50); do
    [ "$(pgrep -c -P "$pid" || true)" -ge 2 ] && break
    sleep 0.1
  done
  run kist ps --format json "$ID"
  assert_success
  assert_equal "$(jq length <<<"$output")" 3
  run --separate-stderr kist pause "$ID"
  assert_one_line_error "it has no cgroup"
  run kist kill --all "$ID" KILL
  assert_success
  wait_for_status "$ID" stopped
}

@test "kist spec --rootless is a user-namespace config without cgroup limits" {
  local d=$BATS_TEST_TMPDIR/spec
  mkdir -p "$d"
  run "$KIST" spec --rootless --bundle "$d"
  assert_success
  run jq -c '[(.linux.namespaces | map(.type) | sort), .linux.uidMappings, (.linux.resources // null),
    (.mounts[] | select(.destination == "/sys") | [.type, .source, (.options | sort)])]' "$d/config.json"
  assert_output "[[\"cgroup\",\"ipc\",\"mount\",\"pid\",\"user\",\"uts\"],[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}],null,[\"none\",\"/sys\",[\"nodev\",\"noexec\",\"nosuid\",\"rbind\",\"ro\"]]]"
}
