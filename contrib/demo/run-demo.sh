#!/bin/bash
# The demo behind `make demo`: runs the busybox bundle in BUNDLEDIR with KIST.
#
#   contrib/demo/run-demo.sh KIST BUNDLEDIR
#
# With a kist that has `run`, it starts a real container that prints its
# hostname, its PID (1 in its own PID namespace) and its namespace ids, and
# compares those with this shell's.  With an older kist it only lints the
# bundle with `kist check`.
set -euo pipefail
kist=${1:?usage: run-demo.sh KIST BUNDLEDIR}
bundle=${2:?usage: run-demo.sh KIST BUNDLEDIR}
bundle=$(cd "$bundle" && pwd)

if [ ! -d "$bundle/rootfs/bin" ] || [ ! -f "$bundle/config.json" ]; then
  echo "run-demo.sh: $bundle needs rootfs/ and config.json (make demo builds them)" >&2
  exit 1
fi

echo "== kist check --bundle $bundle"
"$kist" check --bundle "$bundle"
echo "config.json is valid"

if ! "$kist" help run >/dev/null 2>&1; then
  echo "(this kist has no 'run' command yet: stopping after the check)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "run-demo.sh: running the container needs root (try: sudo make -C build demo)" >&2
  exit 1
fi

# A private state root, removed afterwards whatever happens.
root=$(mktemp -d /tmp/kist-demo-root.XXXXXX)
id=kist-demo-$$
cleanup() {
  "$kist" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT

echo "== kist run --bundle $bundle $id"
out=$("$kist" --root "$root" run --bundle "$bundle" "$id" </dev/null)
printf '%s\n' "$out" | sed 's/^/  container: /'

hostname=$(printf '%s\n' "$out" | sed -n 's/^hostname=//p')
pid=$(printf '%s\n' "$out" | sed -n 's/^pid=//p')
echo "== what that shows"
fail=0
if [ "$hostname" = kist-demo ]; then
  echo "  hostname is kist-demo (the host's is $(hostname)): own UTS namespace"
else
  echo "  hostname is '$hostname', expected kist-demo"
  fail=1
fi
if [ "$pid" = 1 ]; then
  echo "  the shell is PID 1: own PID namespace"
else
  echo "  the shell is PID '$pid', expected 1"
  fail=1
fi
# Namespaces the config asks for must differ from ours; the rest are shared.
wanted=" pid mnt ipc uts net "
while read -r tag name link; do
  [ "$tag" = ns ] || continue
  host=$(readlink "/proc/self/ns/$name" 2>/dev/null || echo '?')
  if [ "$link" != "$host" ]; then
    printf '  %-18s new       (%s, host %s)\n' "$name" "$link" "$host"
  else
    printf '  %-18s shared    (%s)\n' "$name" "$link"
    case "$wanted" in *" $name "*)
      echo "  $name should be a new namespace"
      fail=1 ;;
    esac
  fi
done <<<"$out"
if [ "$fail" != 0 ]; then
  echo "run-demo.sh: the container was not isolated as configured" >&2
  exit 1
fi
echo "demo OK"
