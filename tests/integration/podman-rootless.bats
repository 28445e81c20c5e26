#!/usr/bin/env bats
# Podman rootless drives kist: run by tests/rootless/run.sh as its test user
# (KIST_ROOTLESS=1). Podman makes its own user namespace (newuidmap and the
# user's /etc/subuid range) and calls kist there as root of that namespace.
# Private storage (vfs) and run root in a temp dir; kist keeps its state in
# its rootless default, $XDG_RUNTIME_DIR/kist (Podman's cleanup process does
# not pass --runtime-flag on, so a private --root would leak state); the
# busybox rootfs is imported as an image, offline.

load ../helpers

pm() {
  CONTAINERS_CONF=$PM_DIR/containers.conf podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" \
    --tmpdir "$PM_DIR/tmp" --storage-driver vfs --cgroup-manager cgroupfs --events-backend none "$@"
}

setup_file() {
  rootless_mode || return 0
  command -v podman >/dev/null || return 0
  # Podman refuses a run root longer than 50 characters: a short dir in /tmp.
  PM_DIR=$(mktemp -d /tmp/kpm.XXXXXX)
  export PM_DIR
  mkdir -p "$PM_DIR/tmp"
  cat >"$PM_DIR/containers.conf" <<EOF
[engine]
runtime = "kist"
[engine.runtimes]
kist = ["$KIST"]
EOF
  rootfs_cache
  tar -C "$ROOTFS_CACHE" --exclude=./.kist-rootfs-complete -cf "$PM_DIR/image.tar" .
  if ! pm import "$PM_DIR/image.tar" localhost/kist-rootless-busybox >"$PM_DIR/import.out" 2>&1; then
    echo "podman import failed: $(tail -n 1 "$PM_DIR/import.out")" >"$PM_DIR/broken"
  fi
}

teardown_file() {
  [ -n "${PM_DIR:-}" ] && [ -f "$PM_DIR/containers.conf" ] || return 0
  pm rm -a -f -t 0 >/dev/null 2>&1 || true
  # The image's files belong to subordinate ids: remove them from inside
  # Podman's user namespace, then the rest.
  pm unshare rm -rf "$PM_DIR/root" "$PM_DIR/runroot" >/dev/null 2>&1 || true
  # Podman rootless keeps its user namespace alive with a pause process
  # (catatonit -P) per tmp dir: end it, by the pid Podman recorded.
  local f pid
  for f in "$PM_DIR"/tmp/pause.pid "$XDG_RUNTIME_DIR"/libpod/tmp/pause.pid; do
    pid=$(cat "$f" 2>/dev/null) || continue
    [ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$(id -u)" ] && kill "$pid" 2>/dev/null
  done
  rm -rf "$PM_DIR"
}

setup() {
  rootless_mode || skip "run by tests/rootless/run.sh as an unprivileged user"
  command -v podman >/dev/null || skip "podman is not installed"
  if [ -f "${PM_DIR:?}/broken" ]; then
    fail "$(cat "$PM_DIR/broken")"
  fi
  NAME=kist-rl-$BATS_TEST_NUMBER-$$
}

teardown() {
  rootless_mode || return 0
  command -v podman >/dev/null || return 0
  pm rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
}

@test "podman rootless: run --rm runs in Podman's user namespace and passes the exit code" {
  run pm run --rm --network none localhost/kist-rootless-busybox sh -c 'id -u; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 0
  # Container root is the user itself; the rest is its subordinate range.
  assert_line --index 1 --regexp "^ +0 +$(id -u) +1$"
  run pm run --rm --network none localhost/kist-rootless-busybox sh -c 'exit 3'
  assert_failure 3
}

@test "podman rootless: run -d, exec, rm -f" {
  pm run -d --name "$NAME" --network none localhost/kist-rootless-busybox sleep 1000 >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null
  id=$(pm inspect --format '{{.ID}}' "$NAME")
  # kist's state is in its rootless default.
  [ -f "$XDG_RUNTIME_DIR/kist/$id/state.json" ]
  run pm exec "$NAME" sh -c 'echo from-exec; id -u'
  assert_success
  assert_output "from-exec
0"
  run pm exec "$NAME" sh -c 'exit 7'
  assert_failure 7
  # The host sees the container's processes as the user, not as root.
  pid=$(pm inspect --format '{{.State.Pid}}' "$NAME")
  [ "$(stat -c %u "/proc/$pid")" = "$(id -u)" ]
  run pm rm -f -t 0 "$NAME"
  assert_success
  [ ! -e "$XDG_RUNTIME_DIR/kist/$id" ] || fail "kist state of $id left behind"
}
