#!/bin/bash
# The rootless lane: the rootful bats files again, run by an unprivileged
# user with KIST_ROOTLESS=1 (tests/helpers.bash then writes `kist spec
# --rootless` configs and skips what tests/rootless/skip.txt lists), plus
# tests/rootless.bats.  Run as root: it is CI setup, and it
#
#   - creates the user (KIST_ROOTLESS_USER, default kisttest) if absent, and
#     gives it /etc/subuid and /etc/subgid ranges if it has none;
#   - makes a temp dir owned by the user (TMPDIR, XDG_RUNTIME_DIR, the
#     rootfs cache) and, when the user cannot reach the repository, a copy
#     of what the tests read (build/kist, tests/, contrib/);
#   - runs each bats file as the user (setpriv), prefixing every result with
#     "rootless: ", and ends with one line: N passed, N failed, N skipped.
#
#   tests/rootless/run.sh [FILE.bats...]     (default: the subset below)
#   KIST_BUILD=DIR        the build dir (default build)
#   KIST_BATS_TIMEOUT=S   bound for one file (default 600)
#   KIST_ROOTLESS_KEEP=1  keep the temp dir
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
user=${KIST_ROOTLESS_USER:-kisttest}
build=${KIST_BUILD:-build}
case "$build" in /*) ;; *) build=$repo/$build ;; esac
timeout_s=${KIST_BATS_TIMEOUT:-600}

# shellcheck source=tests/tally.sh
. tests/tally.sh
die() {
  echo "rootless/run.sh: $*" >&2
  failed=$((failed + 1))
  totals
}

[ "$(id -u)" = 0 ] || die "run it as root (it creates the test user): sudo $0"
[ -x "$build/kist" ] || die "$build/kist missing: build kist first"
for tool in setpriv bats jq newuidmap newgidmap useradd usermod; do
  command -v "$tool" >/dev/null || die "$tool missing: contrib/deps.sh installs what the tests need"
done

if [ $# -gt 0 ]; then
  files=("$@")
else
  # Chosen to fit CI (a few minutes): the lifecycle, processes, signals,
  # state and isolation; cgroups, pause and update need a delegated cgroup.
  files=(tests/rootless.bats tests/lifecycle.bats tests/run.bats tests/exec.bats
    tests/process.bats tests/kill-delete.bats tests/state.bats tests/isolation.bats
    tests/integration/podman-rootless.bats)
fi

# A root test that chmods the host's /dev/null (seen once) breaks every
# unprivileged shell: say so rather than fail obscurely.
if [ "$(stat -c %a /dev/null)" != 666 ]; then
  die "the host's /dev/null is mode $(stat -c %a /dev/null), not 666: something run as root changed it (chmod 666 /dev/null restores it)"
fi

# ---- the user ----------------------------------------------------------------
if ! id "$user" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$user" || die "useradd $user failed"
fi
uid=$(id -u "$user")
gid=$(id -g "$user")
# A 65536-id range after every range already given out, for each file.
add_range() { # FILE OPTION
  local file=$1 opt=$2 start
  if [ -f "$file" ] && grep -Eq "^($user|$uid):" "$file"; then
    return 0
  fi
  start=$(awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' \
    "$file" 2>/dev/null || echo 100000)
  usermod "$opt" "$start-$((start + 65535))" "$user" || die "usermod $opt for $user failed"
}
add_range /etc/subuid --add-subuids
add_range /etc/subgid --add-subgids

# ---- what the user can reach ---------------------------------------------------
tmp=$(mktemp -d /tmp/kist-rootless.XXXXXX) || die "mktemp failed"
cleanup() {
  if [ "${KIST_ROOTLESS_KEEP:-}" = 1 ]; then
    echo "# rootless: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
mkdir -p "$tmp/tmp" "$tmp/xdg" "$tmp/home"
chmod 755 "$tmp"
chmod 700 "$tmp/xdg"
# kist warns once per session (XDG_RUNTIME_DIR) when it runs a container
# without a cgroup: said, as far as the rootful files go; rootless.bats
# checks the warning with an XDG_RUNTIME_DIR of its own.
: >"$tmp/xdg/kist.warned-no-cgroup"
chown "$uid:$gid" "$tmp/tmp" "$tmp/xdg" "$tmp/home" "$tmp/xdg/kist.warned-no-cgroup"

as_user() {
  setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env \
    env HOME="$tmp/home" USER="$user" LOGNAME="$user" \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    TMPDIR="$tmp/tmp" XDG_RUNTIME_DIR="$tmp/xdg" \
    KIST_ROOTLESS=1 KIST="$kist" KIST_ROOTFS_CACHE="$tmp/tmp/rootfs-cache" \
    ${BATS_LIB_DIR:+BATS_LIB_DIR="$BATS_LIB_DIR"} \
    ${BATS_TEST_TIMEOUT:+BATS_TEST_TIMEOUT="$BATS_TEST_TIMEOUT"} \
    "$@"
}

src=$repo kist=$build/kist
if ! as_user test -r "$repo/tests/helpers.bash" -a -x "$build/kist" 2>/dev/null; then
  # e.g. a checkout under /root: the user gets a copy of what the tests read.
  src=$tmp/repo
  mkdir -p "$src/build"
  cp -a "$repo/tests" "$repo/contrib" "$src/"
  cp "$build/kist" "$src/build/kist"
  chmod -R a+rX "$src"
  kist=$src/build/kist
  echo "# rootless: $user cannot read $repo: running a copy in $src"
fi

# ---- run -------------------------------------------------------------------
mkdir -p "$build/bats"
for f in "${files[@]}"; do
  [ -f "$repo/$f" ] || die "no such bats file: $f"
  name=$(basename "$f" .bats)
  out=$build/bats/rootless-$name.tap
  echo "-- rootless: $f"
  # Each result line gets the lane's prefix: "ok 3 rootless: <test name>".
  (cd "$tmp/tmp" && as_user timeout --kill-after=30 "$timeout_s" bats --tap "$src/$f" </dev/null 2>&1) |
    sed -E 's/^(ok|not ok) ([0-9]+) /\1 \2 rootless: /' | tee "$out"
  rc=${PIPESTATUS[0]}
  tap_count "$out"
  bats_verdict "$out" "$rc" "$timeout_s" "rootless: $f"
done
totals
