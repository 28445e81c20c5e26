#!/usr/bin/env bats
# Smoke test of the VM lane itself (tests/vm/run.sh): pure cgroup v2 in the
# guest, and a container started end to end by Debian's crun/runc and by kist.
# Meant for the guest; on a host without pure cgroup v2 it skips.

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

ALL_CONTROLLERS="cpuset cpu io memory hugetlb pids rdma misc"

under_systemd () { [ "$(cat /proc/1/comm)" = systemd ]; }

setup () {
  if [ ! -e /sys/fs/cgroup/cgroup.controllers ] || grep -q '^cgroup ' /proc/mounts; then
    skip "no pure cgroup v2 here (run it with tests/vm/run.sh)"
  fi
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  ID=vm-smoke-$$-$BATS_TEST_NUMBER
}

teardown () {
  # Remove only the container this test made, by its id.
  if [ -n "${RUNTIME:-}" ]; then
    "${RUNTIME[@]}" delete --force "$ID" > /dev/null 2>&1 || true
  fi
}

# make_bundle SPEC ARG...: busybox rootfs + a config from `SPEC spec` (each
# runtime gets its own default config) whose process runs ARG..., writable
# root, no terminal, 64 MiB memory limit.
make_bundle () {
  local spec=$1 b
  shift
  mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/sys" \
    "$BUNDLE/rootfs/dev" "$BUNDLE/rootfs/tmp"
  for b in /bin/busybox /usr/bin/busybox; do
    [ -x "$b" ] && cp "$b" "$BUNDLE/rootfs/bin/busybox" && break
  done
  for b in sh cat echo grep; do ln -s busybox "$BUNDLE/rootfs/bin/$b"; done
  (cd "$BUNDLE" && "$spec" spec) || return 1
  local args
  args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  jq ".process.terminal = false | .root.readonly = false | .process.args = $args
      | .linux.resources.memory.limit = 67108864" \
    "$BUNDLE/config.json" > "$BUNDLE/config.new" && mv "$BUNDLE/config.new" "$BUNDLE/config.json"
}

# What the container prints: its cgroup (pure v2: a single "0::" line) and
# the memory limit it sees.
PROBE='echo hello; cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max'

check_probe_output () {
  assert_line --index 0 hello
  assert_line --index 1 --regexp '^0::/'
  refute_line --regexp '^[1-9][0-9]*:' 
  assert_line --index 2 67108864
}

@test "guest has pure cgroup v2 with every controller delegated from the root" {
  run cat /sys/fs/cgroup/cgroup.controllers
  assert_success
  for c in $ALL_CONTROLLERS; do
    [[ " $output " == *" $c "* ]] || fail "controller $c missing: $output"
  done
  run cat /sys/fs/cgroup/cgroup.subtree_control
  if under_systemd; then
    # systemd enables what its units ask for (kist-vm.service: accounting).
    for c in cpu io memory pids; do
      [[ " $output " == *" $c "* ]] || fail "controller $c not enabled: $output"
    done
  else
    assert_output "$ALL_CONTROLLERS"
  fi
  run grep -c ' cgroup ' /proc/mounts
  assert_output 0
}

@test "guest root is an overlay and writable, not a chroot" {
  run awk '$2 == "/" { print $3 }' /proc/mounts
  assert_output overlay
  [ "$(stat -c %i /)" = "$(stat -c %i /proc/1/root/)" ]
  touch /.kist-vm-smoke && rm /.kist-vm-smoke
}

@test "crun runs a busybox container with a memory limit" {
  command -v crun > /dev/null || skip "crun not installed"
  RUNTIME=(crun)
  make_bundle crun sh -c "$PROBE"
  run crun run --bundle "$BUNDLE" "$ID"
  assert_success
  check_probe_output
}

@test "runc runs a busybox container with a memory limit" {
  command -v runc > /dev/null || skip "runc not installed"
  RUNTIME=(runc)
  make_bundle runc sh -c "$PROBE"
  run runc run --bundle "$BUNDLE" "$ID"
  assert_success
  check_probe_output
}

@test "kist --version" {
  [ -x "${KIST:-}" ] || skip "no kist build (set KIST_BUILD)"
  run "$KIST" --version
  assert_success
  assert_output --partial kist
}

@test "kist runs a busybox container with a memory limit" {
  [ -x "${KIST:-}" ] || skip "no kist build (set KIST_BUILD)"
  RUNTIME=("$KIST" --root "$BATS_TEST_TMPDIR/state")
  make_bundle "$KIST" sh -c "$PROBE"
  run "${RUNTIME[@]}" run --bundle "$BUNDLE" "$ID"
  assert_success
  check_probe_output
}

@test "systemd: a transient unit with delegation gets its own cgroup" {
  under_systemd || skip "PID 1 is not systemd (run.sh --init=systemd)"
  run systemd-run --quiet --wait --pipe -p Delegate=yes cat /proc/self/cgroup
  assert_success
  assert_output --regexp '^0::/system\.slice/run-.*\.service$'
}

# run_in_scope SPEC RUNTIME...: the probe container with a systemd cgroupsPath.
run_in_scope () {
  local spec=$1
  shift
  RUNTIME=("$@")
  make_bundle "$spec" sh -c "$PROBE"
  jq --arg p "system.slice:kistvm:$ID" '.linux.cgroupsPath = $p' "$BUNDLE/config.json" \
    > "$BUNDLE/config.new" && mv "$BUNDLE/config.new" "$BUNDLE/config.json"
  run "${RUNTIME[@]}" run --bundle "$BUNDLE" "$ID"
  assert_success
  check_probe_output
  assert_line --index 1 "0::/"
  # The scope is gone with the container.
  run systemctl is-active "kistvm-$ID.scope"
  assert_failure
}

@test "systemd: crun --systemd-cgroup runs a container in a scope" {
  under_systemd || skip "PID 1 is not systemd (run.sh --init=systemd)"
  command -v crun > /dev/null || skip "crun not installed"
  run_in_scope crun crun --systemd-cgroup
}

@test "systemd: kist --systemd-cgroup runs a container in a scope" {
  under_systemd || skip "PID 1 is not systemd (run.sh --init=systemd)"
  [ -x "${KIST:-}" ] || skip "no kist build (set KIST_BUILD)"
  run_in_scope "$KIST" "$KIST" --systemd-cgroup --root "$BATS_TEST_TMPDIR/state"
}
