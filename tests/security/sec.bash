# Shared by tests/security/*.bats, after the suite's helpers:
#
#   load ../helpers
#   load sec
#   setup() { sec_setup; }
#   teardown() { sec_teardown; }
#
# Host canaries live under $CANARY ($BATS_TEST_TMPDIR/canary): files and dirs
# an attack would try to reach. canary_snapshot records them (content hash,
# inode, mode, owner, size, mtime, and every entry) and canary_unchanged fails
# listing any difference. The probe (probe.c) is built once per bats run.

CANARY=$BATS_TEST_TMPDIR/canary
PROBE=${BATS_RUN_TMPDIR:-/tmp}/kist-probe
BG_PIDS=$BATS_TEST_TMPDIR/background.pids

# kist with this test's root, bounded in time: a hostile bundle that makes
# kist hang fails its test instead of stopping the whole run.
kist() {
  timeout --kill-after=5 "${KIST_TEST_TIMEOUT:-120}" "$KIST" --root "$KIST_ROOT" "$@"
}

sec_setup() {
  [ -x "$KIST" ] || fail "no kist binary at $KIST"
  mkdir -p "$CANARY"
  probe_build
}

sec_teardown() {
  bg_stop
  common_teardown
}

# probe_build: a static build of probe.c at $PROBE (flock: bats --jobs).
probe_build() {
  [ -x "$PROBE" ] && return 0
  (
    flock 9
    [ -x "$PROBE" ] && exit 0
    gcc -static -O2 -std=gnu11 -Wall -Wextra -o "$PROBE.tmp" "$REPO/tests/security/probe.c" &&
      mv "$PROBE.tmp" "$PROBE"
  ) 9>"$PROBE.lock" || fail "cannot build tests/security/probe.c (gcc, libc6-dev with libc.a)"
}

# probe_install ROOTFS: the probe as /bin/probe in ROOTFS.
probe_install() {
  cp "$PROBE" "$1/bin/probe"
  chmod 755 "$1/bin/probe"
}

# bg_start COMMAND...: runs COMMAND in the background, detached from bats'
# output fds, and remembers its pid for bg_stop.
bg_start() {
  "$@" </dev/null >/dev/null 2>&1 3>&- &
  echo $! >>"$BG_PIDS"
}

# bg_stop: ends the background processes this test started (by pid).
bg_stop() {
  local pid
  [ -f "$BG_PIDS" ] || return 0
  while read -r pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done <"$BG_PIDS"
  rm -f "$BG_PIDS"
}

# canary_file NAME [CONTENT]: a host file under $CANARY, mode 0600.
canary_file() {
  mkdir -p "$(dirname "$CANARY/$1")"
  printf '%s\n' "${2:-canary $1 $RANDOM$RANDOM}" >"$CANARY/$1"
  chmod 600 "$CANARY/$1"
}

# canary_dir NAME: a host dir under $CANARY holding one canary file.
canary_dir() {
  mkdir -p "$CANARY/$1"
  chmod 700 "$CANARY/$1"
  canary_file "$1/keep"
}

# The state of every canary, one line per entry.
canary_state() {
  (
    cd "$CANARY" || exit 1
    find . -printf '%p %y %i %m %U:%G %s %T@\n' | sort
    find . -type f -print0 | sort -z | xargs -0 -r sha256sum
  )
  # A mount on a canary (in the host's namespace) is a change too.
  awk -v d="$CANARY" 'index($5, d) == 1 { print "mount on " $5 }' /proc/self/mountinfo
}

canary_snapshot() {
  canary_state >"$BATS_TEST_TMPDIR/canary.before"
}

# canary_unchanged: fails, showing the difference, when a canary changed.
canary_unchanged() {
  canary_state >"$BATS_TEST_TMPDIR/canary.after"
  if ! diff -u "$BATS_TEST_TMPDIR/canary.before" "$BATS_TEST_TMPDIR/canary.after" >"$BATS_TEST_TMPDIR/canary.diff"; then
    fail "a host canary changed: $(cat "$BATS_TEST_TMPDIR/canary.diff")"
  fi
}

# sha256 FILE
sha256() {
  sha256sum "$1" | cut -d' ' -f1
}

# no_dev_mount: drop the config's /dev tmpfs (and devpts on it), so the
# rootfs's own /dev is what kist populates and masks.
no_dev_mount() {
  set_config 'del(.mounts[] | select(.destination == "/dev" or .destination == "/dev/pts"))'
}

# userns_bundle: $BUNDLE in a user namespace mapping 0..65535 to host
# 100000..165535, its rootfs owned accordingly. bats' temp dirs are 0700: the
# mapped root must be able to traverse them to reach the rootfs.
userns_bundle() {
  local d=$BUNDLE
  while [ "$d" != / ] && [ "$d" != "$(dirname "${BATS_RUN_TMPDIR:-/tmp}")" ]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done
  chown -R 100000:100000 "$BUNDLE/rootfs"
  set_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
}

# kist_create ARGS...: `kist create ARGS` with the results in $status,
# $stderr and $stderr_lines, like `run --separate-stderr` (which cannot be
# used for create: the waiting init keeps create's stdout open, so `run`
# would wait for the container to end). The container's stdio goes to
# $BATS_TEST_TMPDIR/create.out.
kist_create() {
  local errf=$BATS_TEST_TMPDIR/create.err
  status=0
  kist create "$@" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>"$errf" || status=$?
  stderr=$(cat "$errf")
  mapfile -t stderr_lines <"$errf"
  output=
  lines=()
}

# has_exec: this kist has `exec`.
has_exec() {
  "$KIST" exec --help >/dev/null 2>&1
}

# init_pid ID: the pid kist records for container ID.
init_pid() {
  kist state "$1" | jq -r .pid
}
