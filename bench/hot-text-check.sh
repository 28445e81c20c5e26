#!/bin/bash
# Which functions the kist parent of a `run` executes that src/hot-text.ld
# leaves outside the packed start-path text (.text.kist_hot). Each one can
# cost a 64 KiB fault-around window of the binary in peak RSS; a new or
# renamed function on the start path belongs in the script's parent list.
#
#   sudo bench/hot-text-check.sh [KIST]     (default build/kist; needs valgrind)
#
# Exit status 1 when any is outside. Runs one container (/bin/true from the
# bench's busybox rootfs) under callgrind in a private mount namespace.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
K=$(realpath "${1:-$here/build/kist}")
command -v valgrind >/dev/null || { echo "hot-text-check: valgrind is not installed" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/bundle" "$W/root"
"$here/contrib/demo/make-rootfs.sh" "$W/bundle/rootfs" >/dev/null 2>&1 ||
  { echo "hot-text-check: could not build a busybox rootfs" >&2; exit 2; }
(cd "$W/bundle" && "$K" spec && jq '.process.terminal=false | .process.args=["/bin/true"]' config.json > c && mv c config.json)
unshare -m --propagation private bash -c '
  [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" != cgroup2fs ] || umount /sys/fs/cgroup/unified
  valgrind --tool=callgrind --callgrind-out-file="$1/cg.%p" "$2" --root "$1/root" run --bundle "$1/bundle" hot-text-check' \
  x "$W" "$K" >/dev/null 2>&1 || true
f=$(ls -S "$W"/cg.* | head -1)
callgrind_annotate --threshold=100 "$f" |
  awk 'NR > 20 && /:/ { l = $0; sub(/^.*:/, "", l); sub(/ \[.*$/, "", l); sub(/'"'"'[0-9]+$/, "", l); print l }' |
  sort -u > "$W/funcs"
read -r start end < <(readelf -SW "$K" | awk '/kist_hot/ { print strtonum("0x" $4), strtonum("0x" $4) + strtonum("0x" $6) }')
[ -n "${start:-}" ] || { echo "hot-text-check: $K has no .text.kist_hot (built without src/hot-text.ld)" >&2; exit 2; }
nm "$K" | awk '$2 ~ /^[tT]$/ { print $1, $3 }' > "$W/syms"
awk -v s="$start" -v e="$end" 'NR == FNR { want[$1] = 1; next }
  ($2 in want) { a = strtonum("0x" $1); n++; if (a < s || a >= e) { out++; print "outside: " $2 } }
  END { printf "%d functions of the parent of run; %d outside .text.kist_hot\n", n, out; exit out > 0 }' "$W/funcs" "$W/syms"
