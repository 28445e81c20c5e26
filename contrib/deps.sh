#!/bin/bash
# Installs what kist needs to build and test, on Debian 12 (run as root).
# Idempotent: when every package is already installed it does nothing, so
# it also works offline after the first run.  KIST_DEPS_FORCE=1 always runs
# apt-get.  Extra packages for the VM lane are read from tests/vm/deps.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

pkgs=(
  # build
  autoconf automake libtool make gcc pkg-config git ca-certificates
  libyajl-dev libcap-dev libseccomp-dev libselinux1-dev libsystemd-dev
  go-md2man
  # tests
  bats bats-assert bats-support jq python3 python3-jsonschema busybox-static
  clang libclang-rt-14-dev valgrind iproute2 libcap2-bin util-linux procps coreutils
  # rootless: newuidmap/newgidmap (tests/rootless/run.sh, rootless.bats)
  uidmap
  # tests/integration: the engines that drive kist (script is in bsdutils;
  # grpcio for the CRI client standing in for a kubelet)
  podman netavark containerd runc bsdutils python3-grpcio
  # what apt would recommend with podman (rootless pause process, storage, network)
  catatonit fuse-overlayfs slirp4netns
)
if [ -f tests/vm/deps.txt ]; then
  # One or more package names a line; '#' starts a comment.
  while read -r -a words; do
    pkgs+=("${words[@]}")
  done < <(sed 's/#.*//' tests/vm/deps.txt)
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ -z "${KIST_DEPS_FORCE:-}" ]; then
  echo "deps.sh: all ${#pkgs[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: run as root to install them (sudo $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "deps.sh: no apt-get: this script knows Debian 12; install by hand: ${missing[*]}" >&2
  exit 1
fi

log=$(mktemp /tmp/kist-deps.XXXXXX.log)
echo "deps.sh: installing ${missing[*]:-${pkgs[*]}} (log: $log)"
if ! apt-get update -q >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "deps.sh: apt-get update failed (full log: $log)" >&2
  exit 1
fi
if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "deps.sh: apt-get install failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
echo "deps.sh: done"
