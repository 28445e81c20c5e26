#!/usr/bin/env bats
# linux.netDevices: a host interface moved into the container's network
# namespace (renamed, addresses kept, up). Each test makes a veth pair of its
# own ($IF goes in, $PEER stays on the host) and removes it in teardown.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle true
  ID=kn$BATS_TEST_NUMBER-$$
  IF=kni$BATS_TEST_NUMBER-$$
  PEER=knp$BATS_TEST_NUMBER-$$
  IF=${IF:0:15} PEER=${PEER:0:15}
  ip link add "$IF" type veth peer name "$PEER" || skip "cannot make a veth pair here"
  ip addr add 10.213.0.1/24 dev "$IF"
  ip addr add 10.213.1.1/24 dev "$IF"
  ip addr add fd00:213::1/64 dev "$IF" nodad
}

teardown() {
  common_teardown
  ip link del "$PEER" 2>/dev/null || true
  ip link del "$IF" 2>/dev/null || true
}

in_container() {
  set_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg c "$*" '$c')]"
  run kist run --bundle "$BUNDLE" "$ID"
}

# gone_from_host NAME: waits (the kernel cleans a namespace up in the background).
gone_from_host() {
  local i
  for ((i = 0; i < 100; i++)); do
    ip link show "$1" >/dev/null 2>&1 || return 0
    sleep 0.05
  done
  return 1
}

@test "netDevices: moved and renamed, global addresses kept, up; gone from the host meanwhile" {
  set_config '.linux.netDevices = {($dev): {"name": "ceth0"}}' --arg dev "$IF"
  set_config '.process.args = ["sleep", "100"]'
  kist run -d --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/run.out" 2>&1 </dev/null
  ! ip link show "$IF" 2>/dev/null
  run kist exec "$ID" ip -o addr show dev ceth0
  assert_success
  assert_output --regexp 'inet 10\.213\.0\.1/24 .*scope global'
  assert_output --regexp 'inet 10\.213\.1\.1/24 .*scope global'
  assert_output --regexp 'inet6 fd00:213::1/64 scope global'
  run kist exec "$ID" ip -o link show dev ceth0
  assert_output --regexp '<[^>]*\bUP\b'
  # No move back on delete: a virtual interface dies with the namespace
  # (its veth peer on the host too); a physical one would return to the host.
  kist delete --force "$ID"
  gone_from_host "$PEER"
  ! ip link show "$IF" 2>/dev/null
}

@test "netDevices: without a name the host name is kept" {
  set_config '.linux.netDevices = {($dev): {}}' --arg dev "$IF"
  in_container "ip -o link show dev $IF | grep -c $IF"
  assert_success
  assert_output 1
}

@test "netDevices: a %d template takes the first free number" {
  set_config '.linux.netDevices = {($dev): {"name": "ceth%d"}}' --arg dev "$IF"
  in_container 'ls /sys/class/net | sort'
  assert_success
  assert_line ceth0
  refute_line "$IF"
}

@test "netDevices: a name taken in the container is an error and nothing moves" {
  set_config '.linux.netDevices = {($dev): {"name": "lo"}}' --arg dev "$IF"
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "lo already exists in the container's network namespace"
  assert_root_empty
  ip -o addr show dev "$IF" | grep -q 10.213.0.1
}

@test "netDevices: bad configs fail with one line before anything is made" {
  cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/base.json"
  for case in \
    "no such network interface on the host|.linux.netDevices = {\"kistnosuch0\": {}}" \
    "is not a valid interface name|.linux.netDevices = {(\$dev): {\"name\": \"a/b\"}}" \
    "is not a valid interface name|.linux.netDevices = {(\$dev): {\"name\": \"0123456789abcdef\"}}" \
    "is also the name of|.linux.netDevices = {(\$dev): {\"name\": \"x0\"}, (\$peer): {\"name\": \"x0\"}}" \
    "needs a network namespace of the container's own|.linux.netDevices = {(\$dev): {}} | del(.linux.namespaces[] | select(.type == \"network\"))" \
    "needs a network namespace of the container's own|.linux.netDevices = {(\$dev): {}} | (.linux.namespaces[] | select(.type == \"network\")).path = \"/proc/self/ns/net\""; do
    IFS='|' read -r want filter <<<"$case"
    cp "$BATS_TEST_TMPDIR/base.json" "$BUNDLE/config.json"
    set_config "$filter" --arg dev "$IF" --arg peer "$PEER"
    run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
    assert_one_line_error "$want"
    assert_root_empty
  done
  ip link show "$IF" >/dev/null
  ip link show "$PEER" >/dev/null
}

@test "netDevices: a create that fails after the move gives the interface back" {
  set_config '.linux.netDevices = {($dev): {"name": "ceth0"}} | .hooks.createRuntime = [{"path": "/bin/false"}]' --arg dev "$IF"
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_root_empty
  run ip -o link show "$IF"
  assert_success
  ip link show "$PEER" >/dev/null
}

@test "netDevices: also when the init itself died of the failure (createContainer hook)" {
  set_config '.linux.netDevices = {($dev): {"name": "ceth0"}} | .hooks.createContainer = [{"path": "/bin/false"}]' --arg dev "$IF"
  run --separate-stderr kist run --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_root_empty
  run ip -o link show "$IF"
  assert_success
}

@test "netDevices: joining another container's network namespace moves the interface there" {
  set_config '.process.args = ["sleep", "100"]'
  kist run -d --bundle "$BUNDLE" "$ID-a" >"$BATS_TEST_TMPDIR/run.out" 2>&1 </dev/null
  apid=$(kist state "$ID-a" | jq -r .pid)
  set_config ".linux.netDevices = {(\$dev): {\"name\": \"joined0\"}} | (.linux.namespaces[] | select(.type == \"network\")).path = \"/proc/$apid/ns/net\"" --arg dev "$IF"
  in_container 'cat /sys/class/net/joined0/operstate >/dev/null && echo there'
  assert_success
  assert_output there
  run kist exec "$ID-a" ls /sys/class/net
  assert_line joined0
}

@test "features: netDevices and idmap mounts are enabled" {
  run --separate-stderr "$KIST" features
  assert_success
  [ "$(jq -r .linux.netDevices.enabled <<<"$output")" = true ]
  [ "$(jq -r .linux.mountExtensions.idmap.enabled <<<"$output")" = true ]
  jq -e '.mountOptions | index("idmap") and index("ridmap")' <<<"$output" >/dev/null
}

@test "netDevices: into a network namespace owned by the container's user namespace" {
  chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
  set_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.netDevices = {($dev): {"name": "ceth0"}}' --arg dev "$IF"
  in_container 'ip -o -4 addr show dev ceth0; cat /sys/class/net/ceth0/flags'
  assert_success
  assert_line --regexp 'inet 10\.213\.0\.1/24'
  # IFF_UP is bit 0 of the flags.
  [ $(( $(tail -n 1 <<<"$output") & 1 )) -eq 1 ]
}
