#!/bin/bash
# Runs bats files in N shards at once and prints one TAP stream: the total
# plan, then each shard's lines with its test numbers shifted.  The VM lane
# uses it to keep both vCPUs of the TCG guest busy (bats --jobs would need
# GNU parallel).  Files are spread by their number of @test lines, largest
# first; each shard is one `bats` process, so tests of one file never run at
# the same time.  In the guest (KIST_IN_VM set), each result line also goes
# to /dev/console as "[shard I] ...", to follow the run live.
#
#   tests/vm/bats-shards.sh N [BATS-OPTION...] -- FILE...
#
# Exit status: 0 when every shard's bats exited 0, else the first non-zero one.

set -u
n=${1:?usage: bats-shards.sh N [BATS-OPTION...] -- FILE...}
shift
opts=() filter=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  [ "$1" = --filter ] && filter=${2:-}
  opts+=("$1")
  shift
done
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || { echo "bats-shards.sh: no files" >&2; exit 2; }
[ "$n" -ge 1 ] 2> /dev/null || n=1
[ "$n" -le $# ] || n=$#

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bats-shards.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Greedy: each file, largest first, to the shard with the fewest tests.
weight=() list=()
for ((i = 0; i < n; i++)); do weight[i]=0 list[i]=""; done
while read -r count file; do
  best=0
  for ((i = 1; i < n; i++)); do
    [ "${weight[i]}" -lt "${weight[best]}" ] && best=$i
  done
  weight[best]=$((weight[best] + count))
  list[best]+="$file"$'\n'
done < <(for f in "$@"; do
  # Weight: the tests of the file that bats --filter lets through.
  count=0
  while IFS= read -r name; do
    [ -z "$filter" ] || [[ "$name" =~ $filter ]] && count=$((count + 1))
  done < <(sed -n 's/^[[:space:]]*@test[[:space:]]*"\(.*\)"[[:space:]]*{[[:space:]]*$/\1/p' "$f")
  echo "$count $f"
done | sort -rn -k1,1)

console=""
[ -n "${KIST_IN_VM:-}" ] && [ -w /dev/console ] && console=/dev/console
pids=() tails=()
for ((i = 0; i < n; i++)); do
  mapfile -t files <<< "${list[i]%$'\n'}"
  : > "$tmp/$i.tap"
  (
    bats "${opts[@]}" "${files[@]}" > "$tmp/$i.tap" 2>&1 < /dev/null
    echo $? > "$tmp/$i.rc"
  ) &
  pids[i]=$!
  if [ -n "$console" ]; then
    tail -n +1 -f --pid="${pids[i]}" "$tmp/$i.tap" 2> /dev/null \
      | sed -u "s/^/[shard $i] /" > "$console" &
    tails+=($!)
  fi
done
wait "${pids[@]}"
[ ${#tails[@]} -eq 0 ] || wait "${tails[@]}" 2> /dev/null

# One plan for all; a shard that died early leaves a gap in the numbers,
# which a TAP reader counts as missing tests.
total=0 plan=()
for ((i = 0; i < n; i++)); do
  plan[i]=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tmp/$i.tap" | head -n1)
  total=$((total + ${plan[i]:-0}))
done
echo "1..$total"
off=0 rc=0
for ((i = 0; i < n; i++)); do
  while IFS= read -r line; do
    if [[ "$line" =~ ^(ok|not\ ok)\ ([0-9]+)(.*)$ ]]; then
      echo "${BASH_REMATCH[1]} $((BASH_REMATCH[2] + off))${BASH_REMATCH[3]}"
    elif [[ ! "$line" =~ ^1\.\.[0-9]+$ ]]; then
      printf '%s\n' "$line"
    fi
  done < "$tmp/$i.tap"
  off=$((off + ${plan[i]:-0}))
  r=$(cat "$tmp/$i.rc" 2> /dev/null || echo 1)
  [ "$rc" != 0 ] || rc=$r
done
exit "$rc"
