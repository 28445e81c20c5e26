#!/bin/bash
# Start-path benchmarks: kist against crun, runc and bench/floor.c (the least
# a container start can cost here), every scenario interleaved in one run so
# that machine noise lands on all runtimes alike.  Needs root.
#
#   sudo bench/run.sh [-k KIST] [-r ROUNDS] [-n RUNS] [-l LIVE] [-p PAR]
#                     [-s SCENARIOS] [-o DIR] [-q]
#
#   -k KIST       kist binary (default $KIST, else build/kist)
#   -r ROUNDS     interleaved rounds per scenario (default 15); each round
#                 runs every runtime in a new random order
#   -n RUNS       runs of each command per round (default 2)
#   -l LIVE       live containers for the scale check (default 500)
#   -p PAR        parallel creators (default 8)
#   -s LIST       comma-separated subset of: run-min run-podman lifecycle exec
#                 parallel scale rss memcg (default: all)
#   -o DIR        write results.md and the raw samples there (default: a new
#                 directory under /tmp, printed at the end)
#   -q            quick look: 4 rounds, 50 live containers
#
# The environment can set the defaults: KIST_BENCH_ROUNDS, KIST_BENCH_RUNS,
# KIST_BENCH_LIVE (e.g. 50 for a quick scale check), KIST_BENCH_PAR.
#
# Ends with two tables: the summary (ratios and targets only) and the details
# (median and min-max of every runtime).  Ratios are kist/other: below 1 means
# kist is faster, except for throughput (containers/s) where above 1 does.
#
# Cgroups: crun 1.8.1 refuses a hybrid host (v1 controllers plus a v2 mount
# at /sys/fs/cgroup/unified), so the whole benchmark re-runs itself in a
# private mount namespace and unmounts /sys/fs/cgroup/unified there only;
# every runtime then sees the same pure-v1 tree.  The host's mounts are never
# touched.
#
# It makes everything under its own directory (state roots, bundles) and
# deletes each container it made by id on exit, whatever happened.
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench_dir")

KIST=${KIST:-$repo/build/kist}
ROUNDS=${KIST_BENCH_ROUNDS:-15}
RUNS=${KIST_BENCH_RUNS:-2}
LIVE=${KIST_BENCH_LIVE:-500}
PAR=${KIST_BENCH_PAR:-8}
SCENARIOS="run-min,run-podman,lifecycle,exec,parallel,scale,rss,memcg"
OUT=
orig_args=("$@")
while getopts "k:r:n:l:p:s:o:qh" opt; do
  case $opt in
  k) KIST=$OPTARG ;;
  r) ROUNDS=$OPTARG ;;
  n) RUNS=$OPTARG ;;
  l) LIVE=$OPTARG ;;
  p) PAR=$OPTARG ;;
  s) SCENARIOS=$OPTARG ;;
  o) OUT=$OPTARG ;;
  q)
    ROUNDS=4
    LIVE=50
    ;;
  h)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) exit 2 ;;
  esac
done

say() { printf '%s\n' "$*" >&2; }
die() {
  say "bench: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "creates containers and cgroups: run as root"
KIST=$(readlink -f "$KIST") || true
[ -x "$KIST" ] || die "no kist binary at ${KIST:-?} (build it, or pass -k / set KIST)"

# ---- a private mount namespace with a pure-v1 cgroup view ----------------
if [ "${KIST_BENCH_IN_NS:-}" != 1 ]; then
  command -v unshare >/dev/null || die "needs unshare (util-linux)"
  export KIST_BENCH_IN_NS=1
  exec unshare -m --propagation private bash "$0" "${orig_args[@]}" -k "$KIST"
fi
# Never act on the host's mount namespace, whatever the environment says.
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
  die "not in a private mount namespace; refusing to touch cgroup mounts"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
  [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
  umount /sys/fs/cgroup/unified # this namespace only
fi

# ---- tools -------------------------------------------------------------------
need=()
for t in crun runc hyperfine jq cc; do
  command -v "$t" >/dev/null || need+=("$t")
done
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for t in "${need[@]}"; do
    case $t in
    cc) pkgs+=(gcc libc6-dev) ;;
    *) pkgs+=("$t") ;;
    esac
  done
  say "bench: installing ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >/dev/null ||
    die "apt-get install ${pkgs[*]} failed"
fi
[ -x /bin/busybox ] || DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null

# ---- work area and cleanup ---------------------------------------------------
WORK=$(mktemp -d /tmp/kist-bench.XXXXXX)
[ -n "$OUT" ] || OUT=$WORK/results
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)
RAW=$OUT/raw
RTS=(kist crun runc)

# State roots on a tmpfs, as their defaults (/run/kist, /run/crun,
# /run/runc) are: on a disk file system every state file a runtime creates
# costs an inode allocation (on ext4 with many recently deleted inodes, a
# bitmap scan), which would measure the disk rather than the runtime. The
# tmpfs is mounted in this private mount namespace only.
mkdir -p "$WORK/state"
mount -t tmpfs -o mode=0700,size=256m kist-bench "$WORK/state"
rt_cmd() {
  case $1 in
  kist) echo "$KIST --root $WORK/state/kist" ;;
  crun) echo "crun --root $WORK/state/crun" ;;
  runc) echo "runc --root $WORK/state/runc" ;;
  esac
}

# Every id is written down before it is used, so cleanup finds it.
track() { echo "$2" >>"$WORK/ids-$1"; }

delete_ids() { # RT FILE: delete -f every id listed, 4 at a time
  local k
  k=$(rt_cmd "$1")
  [ -s "$2" ] || return 0
  sort -u "$2" | xargs -r -P 4 -n 1 $k delete -f >/dev/null 2>&1 || true
}

cleanup() {
  set +e
  for rt in "${RTS[@]}"; do
    [ -f "$WORK/ids-$rt" ] && delete_ids "$rt" "$WORK/ids-$rt"
  done
  # Floors that died before removing their cgroups (empty dirs only).
  for d in /sys/fs/cgroup/*/kbfloor-*; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null
  done
  umount "$WORK/state" 2>/dev/null && rmdir "$WORK/state"
  rm -rf "$WORK/bundles" "$WORK/ids-"* "$WORK/floor" "$WORK"/*.err "$WORK"/*-ids* "$WORK"/h.* 2>/dev/null
  [[ "$OUT" == "$WORK"/* ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- bundles -----------------------------------------------------------------
B=$WORK/bundles
mkdir -p "$B"
"$repo/contrib/demo/make-rootfs.sh" "$B/rootfs" >/dev/null
rootfs=$B/rootfs
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu)
[ "$hard_nproc" = unlimited ] && hard_nproc=4194304

# crun 1.8.1 refuses ociVersion 1.3.0, which is what `kist spec` writes.
# Without CAP_SYS_RESOURCE no runtime can raise a hard limit: clamp to ours.
fixup='.ociVersion = "1.0.2-dev" | .root.path = $rootfs | .process.terminal = false
  | .process.rlimits = [(.process.rlimits // [])[]
      | (if .type == "RLIMIT_NOFILE" then $nofile elif .type == "RLIMIT_NPROC" then $nproc
         else null end) as $max
      | if $max then .hard = ([.hard, $max] | min) | .soft = ([.soft, .hard] | min) else . end]'
mkbundle() { # NAME SOURCE-CONFIG JQ-FILTER
  mkdir -p "$B/$1"
  jq --arg rootfs "$rootfs" --argjson nofile "$hard_nofile" --argjson nproc "$hard_nproc" \
    "$fixup | $3" "$2" >"$B/$1/config.json"
}
mkdir -p "$B/spec"
$KIST spec --bundle "$B/spec" >/dev/null
mkbundle min "$B/spec/config.json" '.process.args = ["/bin/true"]'
mkbundle sleep "$B/spec/config.json" '.process.args = ["sleep", "30"]'
mkbundle live "$B/spec/config.json" '.process.args = ["sleep", "3600"]'
mkbundle podman "$repo/tests/fixtures/podman-like-config.json" '.process.args = ["/bin/true"]'
mkbundle podman-nnp "$repo/tests/fixtures/podman-like-config.json" \
  '.process.args = ["/bin/true"] | .process.noNewPrivileges = true'

cc -O2 -Wall -o "$WORK/floor" "$bench_dir/floor.c" || die "cannot build bench/floor.c"
FLOOR="$WORK/floor $rootfs kbfloor /bin/true"

# ---- statistics --------------------------------------------------------------
# Samples are lines "LABEL VALUE" in $RAW/SCENARIO.
stat3() { # SCENARIO LABEL SCALE -> "median min max" (VALUE * SCALE), or nothing
  [ -f "$RAW/$1" ] || return 0
  awk -v l="$2" '$1 == l { print $2 }' "$RAW/$1" | sort -g |
    awk -v s="$3" '{ v[NR] = $1 * s }
      END { if (NR == 0) exit
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            print m, v[1], v[NR] }'
}
median() { stat3 "$1" "$2" "${3:-1}" | awk '{ print $1 }'; }
ratio() { # A B -> A/B with 2 decimals, or "-"
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'
}
fmt3() { # "median min max" -> "12.3 (10.1-15.0)"
  [ -n "$1" ] || {
    echo "-"
    return
  }
  echo "$1" | awk -v d="${2:-1}" '{ printf "%.*f (%.*f-%.*f)", d, $1, d, $2, d, $3 }'
}

# ---- timing: hyperfine, one round at a time, commands shuffled ---------------
# measure SCENARIO LABEL CMD PREPARE [LABEL CMD PREPARE ...]
# PREPARE runs before each timed run (not timed); "" for none.
measure() {
  local scen=$1
  shift
  local -a labels=() cmds=() preps=()
  while [ $# -gt 0 ]; do
    labels+=("$1")
    cmds+=("$2")
    preps+=("${3:-true}")
    shift 3
  done
  local r i n=${#labels[@]} failed=0
  for ((r = 1; r <= ROUNDS; r++)); do
    local -a args=()
    for i in $(shuf -i 0-$((n - 1))); do
      args+=(-n "${labels[i]}" --prepare "${preps[i]}" "${cmds[i]}")
    done
    # The first round warms caches for everyone alike.
    local warm=0
    [ "$r" = 1 ] && warm=1
    if hyperfine -N --style none -w "$warm" -r "$RUNS" --export-json "$WORK/h.json" \
      "${args[@]}" >"$WORK/h.out" 2>&1; then
      jq -r '.results[] | .command as $c | .times[] | "\($c) \(.)"' "$WORK/h.json" >>"$RAW/$scen"
      # CPU (user + system of the command and the children it waited for):
      # steadier than wall time on a busy machine. One mean per round.
      jq -r '.results[] | "\(.command) \(.user + .system)"' "$WORK/h.json" >>"$RAW/$scen.cpu"
    else
      failed=$((failed + 1))
      say "bench: $scen round $r failed: $(grep -m1 -i -E 'error|fail' "$WORK/h.out" || tail -n1 "$WORK/h.out")"
    fi
  done
  [ "$failed" -lt $(((ROUNDS + 1) / 2)) ] || echo "too many failed rounds" >"$RAW/$scen.failed"
}

# Runs a command once to see whether it works; on failure records why.
# Output goes to files, never to a pipe: a container left running would
# hold the pipe open and block the reader.
preflight() { # SCENARIO LABEL CMD...
  local scen=$1 label=$2 rc=0
  shift 2
  "$@" >/dev/null 2>"$WORK/preflight.err" </dev/null || rc=$?
  if [ "$rc" != 0 ]; then
    { tail -n 1 "$WORK/preflight.err"; [ -s "$WORK/preflight.err" ] || echo "exit status $rc"; } \
      >"$RAW/$scen.$label.failed"
    return 1
  fi
}
failed_why() { cat "$RAW/$1.$2.failed" 2>/dev/null; }

want() { [[ ",$SCENARIOS," == *",$1,"* ]]; }

# ---- scenarios ---------------------------------------------------------------
run_scenario() { # SCENARIO BUNDLE: run /bin/true, plus the floor
  local scen=$1 bundle=$2 rt k
  local -a spec=()
  for rt in "${RTS[@]}"; do
    k=$(rt_cmd "$rt")
    track "$rt" "kb-$scen"
    # shellcheck disable=SC2086
    if preflight "$scen" "$rt" $k run --bundle "$B/$bundle" "kb-$scen"; then
      spec+=("$rt" "$k run --bundle $B/$bundle kb-$scen" "")
    fi
  done
  # shellcheck disable=SC2086
  preflight "$scen" floor $FLOOR && spec+=(floor "$FLOOR" "")
  measure "$scen" "${spec[@]}"
}

lifecycle_scenario() { # create + start + delete -f of sleep 30
  local rt k id=kb-life
  local -a spec=()
  for rt in "${RTS[@]}"; do
    k=$(rt_cmd "$rt")
    track "$rt" "$id"
    local cmd="sh -c '$k create --bundle $B/sleep $id && $k start $id && $k delete -f $id'"
    if preflight lifecycle "$rt" sh -c "$k create --bundle $B/sleep $id && $k start $id && $k delete -f $id"; then
      spec+=("$rt" "$cmd" "sh -c '$k delete -f $id >/dev/null 2>&1; true'")
    else
      $k delete -f "$id" >/dev/null 2>&1 || true
    fi
  done
  measure lifecycle "${spec[@]}"
}

exec_scenario() {
  if ! $KIST exec --help >/dev/null 2>&1; then
    echo "kist has no exec command yet" >"$RAW/exec.skipped"
    say "bench: exec: skipped (kist has no exec command yet)"
    return 0
  fi
  local rt k id=kb-exec
  local -a spec=()
  for rt in "${RTS[@]}"; do
    k=$(rt_cmd "$rt")
    track "$rt" "$id"
    # shellcheck disable=SC2086
    if preflight exec "$rt" sh -c "$k create --bundle $B/live $id && $k start $id && $k exec $id /bin/true"; then
      spec+=("$rt" "$k exec $id /bin/true" "")
    fi
  done
  measure exec "${spec[@]}"
  for rt in "${RTS[@]}"; do
    $(rt_cmd "$rt") delete -f "$id" >/dev/null 2>&1 || true
  done
}

# PAR creators at once, each making N containers (create + start) in a row;
# the sample is containers started per second for the whole batch.
parallel_scenario() {
  local n=5 r rt k
  local rounds=$(((ROUNDS + 2) / 3))
  for ((r = 1; r <= rounds; r++)); do
    for rt in $(shuf -e "${RTS[@]}"); do
      [ -f "$RAW/parallel.$rt.failed" ] && continue
      k=$(rt_cmd "$rt")
      local ids=$WORK/par-ids
      : >"$ids"
      local w j
      for ((w = 1; w <= PAR; w++)); do
        for ((j = 1; j <= n; j++)); do
          echo "kb-par-$r-$w-$j" >>"$ids"
        done
      done
      cat "$ids" >>"$WORK/ids-$rt"
      local t0 t1
      t0=$(date +%s%N)
      if seq "$PAR" | xargs -P "$PAR" -I{} sh -c '
          k=$1 b=$2 n=$3 r=$4 w=$5 j=1
          while [ "$j" -le "$n" ]; do
            $k create --bundle "$b" "kb-par-$r-$w-$j" && $k start "kb-par-$r-$w-$j" || exit 1
            j=$((j + 1))
          done' _ "$k" "$B/live" "$n" "$r" {} >/dev/null 2>"$WORK/par.err"; then
        t1=$(date +%s%N)
        awk -v rt="$rt" -v c=$((PAR * n)) -v ns=$((t1 - t0)) 'BEGIN { printf "%s %.3f\n", rt, c / (ns / 1e9) }' >>"$RAW/parallel"
      else
        tail -n 1 "$WORK/par.err" >"$RAW/parallel.$rt.failed"
      fi
      delete_ids "$rt" "$ids"
    done
  done
}

# Create latency and list time with 0 and with LIVE running containers, one
# runtime at a time (LIVE containers of one runtime at most exist at once).
scale_scenario() {
  local rt k id=kb-scale-probe
  for rt in $(shuf -e "${RTS[@]}"); do
    k=$(rt_cmd "$rt")
    track "$rt" "$id"
    if ! preflight scale "$rt" sh -c "$k create --bundle $B/live $id && $k delete -f $id"; then
      continue
    fi
    local prep="sh -c '$k delete -f $id >/dev/null 2>&1; true'"
    measure scale-create-0 "$rt" "$k create --bundle $B/live $id" "$prep"
    $k delete -f "$id" >/dev/null 2>&1 || true
    measure scale-list-0 "$rt" "$k list" ""
    local ids=$WORK/live-ids-$rt i
    : >"$ids"
    for ((i = 1; i <= LIVE; i++)); do
      echo "kb-live-$i" >>"$ids"
    done
    cat "$ids" >>"$WORK/ids-$rt"
    say "bench: scale: starting $LIVE $rt containers"
    xargs -P 4 -I{} sh -c '$1 create --bundle "$2" "$3" && $1 start "$3"' _ "$k" "$B/live" {} \
      <"$ids" >/dev/null 2>"$WORK/live.err" || true
    local running
    running=$($k list 2>/dev/null | grep -c ' running ' || true)
    echo "$rt $running" >>"$RAW/scale-running"
    if [ "$running" -lt "$LIVE" ]; then
      echo "only $running of $LIVE running: $(tail -n 1 "$WORK/live.err")" >"$RAW/scale.$rt.failed"
    fi
    measure scale-create-live "$rt" "$k create --bundle $B/live $id" "$prep"
    $k delete -f "$id" >/dev/null 2>&1 || true
    measure scale-list-live "$rt" "$k list" ""
    say "bench: scale: deleting $LIVE $rt containers"
    delete_ids "$rt" "$ids"
    # The 0-live baseline again, after: the phases of one runtime follow
    # each other, so drift in the machine's load would otherwise pass for
    # a scaling effect.
    measure scale-create-0 "$rt" "$k create --bundle $B/live $id" "$prep"
    $k delete -f "$id" >/dev/null 2>&1 || true
    measure scale-list-0 "$rt" "$k list" ""
  done
}

# Peak RSS (/usr/bin/time %M) of `run /bin/true` and of `create` (sleep).
rss_scenario() {
  local r rt k
  for ((r = 1; r <= ROUNDS; r++)); do
    for rt in $(shuf -e "${RTS[@]}" floor); do
      if [ "$rt" = floor ]; then
        # shellcheck disable=SC2086
        /usr/bin/time -q -f "floor %M" -a -o "$RAW/rss-run" $FLOOR >/dev/null 2>&1 || true
        continue
      fi
      k=$(rt_cmd "$rt")
      track "$rt" kb-rss
      # shellcheck disable=SC2086
      /usr/bin/time -q -f "$rt %M" -a -o "$RAW/rss-run" $k run --bundle "$B/min" kb-rss \
        >/dev/null 2>&1 || true
      # shellcheck disable=SC2086
      /usr/bin/time -q -f "$rt %M" -a -o "$RAW/rss-create" $k create --bundle "$B/live" kb-rss \
        >/dev/null 2>&1 || true
      $k delete -f kb-rss >/dev/null 2>&1 || true
    done
  done
}

# Memory charged to the container's memory cgroup after create, before start:
# what the waiting init (kist's or crun's process, runc init) costs.
# Two readings. memory.usage_in_bytes (v1) or memory.current (v2) is what
# the cgroup shows, but the kernel charges in batches of 64 pages per CPU
# and keeps the unused part in a per-CPU stock that still counts: any init
# that charges one page shows 256 KiB until that stock is drained by
# unrelated activity. The exact charge is kernel memory (v1
# memory.kmem.usage_in_bytes; v2 memory.stat "kernel") plus anonymous and
# file pages (memory.stat, whose per-CPU counters the kernel folds in every
# 2 s): read after a wait of 2.5 s, all runtimes of a round at once.
memcg_scenario() {
  local r rt k id=kb-memcg
  for ((r = 1; r <= ROUNDS; r++)); do
    local -A dir=()
    for rt in $(shuf -e "${RTS[@]}"); do
      k=$(rt_cmd "$rt")
      track "$rt" "$id"
      if $k create --bundle "$B/live" "$id" >/dev/null 2>"$WORK/memcg.err"; then
        local pid cg f
        pid=$($k state "$id" | jq -r .pid)
        cg=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
        f=/sys/fs/cgroup/memory$cg/memory.usage_in_bytes
        if [ -z "$cg" ]; then
          cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
          f=/sys/fs/cgroup$cg/memory.current
        fi
        if [ "$cg" != / ] && [ -r "$f" ]; then
          echo "$rt $(cat "$f")" >>"$RAW/memcg"
          dir[$rt]=${f%/*}
        else
          echo "not in a memory cgroup of its own ($cg)" >"$RAW/memcg.$rt.failed"
        fi
      else
        tail -n 1 "$WORK/memcg.err" >"$RAW/memcg.$rt.failed"
      fi
    done
    sleep 2.5
    for rt in "${!dir[@]}"; do
      local d=${dir[$rt]} exact
      if [ -r "$d/memory.kmem.usage_in_bytes" ]; then
        exact=$(awk -v kmem="$(cat "$d/memory.kmem.usage_in_bytes")" \
          '$1 == "total_rss" || $1 == "total_cache" { s += $2 } END { print s + kmem }' "$d/memory.stat")
      else
        exact=$(awk '$1 == "anon" || $1 == "file" || $1 == "kernel" { s += $2 } END { print s }' "$d/memory.stat")
      fi
      echo "$rt $exact" >>"$RAW/memcg-exact"
    done
    for rt in "${RTS[@]}"; do
      $(rt_cmd "$rt") delete -f "$id" >/dev/null 2>&1 || true
    done
  done
}

# ---- run ---------------------------------------------------------------------
say "bench: kist $($KIST --version 2>/dev/null | head -n 1); $(crun --version | head -n 1); $(runc --version | head -n 1)"
say "bench: $ROUNDS rounds x $RUNS runs; results in $OUT"
want run-min && {
  say "bench: run /bin/true, minimal config"
  run_scenario run-min min
}
want run-podman && {
  say "bench: run /bin/true, podman-like config"
  run_scenario run-podman podman
  # kist could not load a seccomp filter without no_new_privs before
  # capabilities were dropped: measure the closest config it can run too.
  if [ -f "$RAW/run-podman.kist.failed" ]; then
    say "bench: kist fails the podman-like config ($(failed_why run-podman kist)); adding podman-like + noNewPrivileges"
    run_scenario run-podman-nnp podman-nnp
  fi
}
want lifecycle && {
  say "bench: create + start + delete -f (sleep 30)"
  lifecycle_scenario
}
want exec && {
  say "bench: exec /bin/true"
  exec_scenario
}
want parallel && {
  say "bench: $PAR parallel creators"
  parallel_scenario
}
want scale && {
  say "bench: create and list with 0 and $LIVE live containers"
  scale_scenario
}
want rss && {
  say "bench: peak RSS"
  rss_scenario
}
want memcg && {
  say "bench: memory charged before start"
  memcg_scenario
}

# ---- report ------------------------------------------------------------------
ms=1000
kb_mib=$(awk 'BEGIN { print 1 / 1024 }')
b_mib=$(awk 'BEGIN { print 1 / 1048576 }')

verdict() { # VALUE OP LIMIT
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "-" || v == "" || l == "") { print "-"; exit }
    ok = (op == "<=") ? (v <= l) : (v >= l)
    print ok ? "met" : "MISSED" }'
}

cell() { # SCENARIO LABEL SCALE DECIMALS: detail cell
  local why
  why=$(failed_why "${1%.cpu}" "$2")
  if [ -n "$why" ]; then
    echo "FAILS: $why"
    return
  fi
  fmt3 "$(stat3 "$1" "$2" "$3")" "${4:-1}"
}

# One summary line: ratios of medians, kist over each other; the CPU column
# is kist/crun of user+system time where the scenario has it.
summary_row() { # TITLE SCENARIO TARGET-KEY TARGET-OP TARGET
  local title=$1 scen=$2 key=$3 op=$4 lim=$5
  local k kc kr kf kcpu v target="-"
  k=$(median "$scen" kist)
  kc=$(ratio "$k" "$(median "$scen" crun)")
  kr=$(ratio "$k" "$(median "$scen" runc)")
  kf=$(ratio "$k" "$(median "$scen" floor)")
  kcpu=$(ratio "$(median "$scen.cpu" kist)" "$(median "$scen.cpu" crun)")
  if [ -n "$(failed_why "$scen" kist)" ]; then
    kc="kist fails" kr="-" kf="-" kcpu="-"
  fi
  case $key in
  crun) v=$kc ;;
  floor) v=$kf ;;
  *) v=- ;;
  esac
  [ -n "$lim" ] && target="$op $lim x $key"
  echo "| $title | $kc | $kr | $kf | $kcpu | $target | $(verdict "$v" "$op" "$lim") |"
}

detail() { # TITLE SCENARIO UNIT SCALE DECIMALS
  echo "| $1 | $3 | $(cell "$2" kist "$4" "$5") | $(cell "$2" crun "$4" "$5") | $(cell "$2" runc "$4" "$5") | $(cell "$2" floor "$4" "$5") |"
}

{
  echo "## kist start-path benchmark"
  echo
  echo "kist $($KIST --version 2>/dev/null | head -n 1 | sed 's/^kist //'), $(crun --version | head -n 1), $(runc --version | head -n 1);"
  echo "Linux $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the end; cgroup v1 view (private mount namespace);"
  echo "$ROUNDS interleaved rounds x $RUNS runs per scenario; $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "### Summary: kist / other, ratio of medians (below 1: kist is faster or smaller; for containers/s, above 1)"
  echo
  echo "| scenario | kist/crun | kist/runc | kist/floor | kist/crun CPU | target | |"
  echo "|---|---|---|---|---|---|---|"
  want run-min && summary_row "run /bin/true, minimal config" run-min crun "<=" 0.5
  if want run-podman; then
    summary_row "run /bin/true, podman-like config" run-podman crun "<=" 0.5
    [ -n "$(failed_why run-podman kist)" ] || summary_row "  same, against the floor" run-podman floor "<=" 2.5
    if [ -f "$RAW/run-podman-nnp" ]; then
      summary_row "run, podman-like + noNewPrivileges" run-podman-nnp crun "<=" 0.5
      summary_row "  same, against the floor" run-podman-nnp floor "<=" 2.5
    fi
  fi
  want lifecycle && summary_row "create + start + delete -f (sleep 30)" lifecycle crun "<=" 0.5
  if want exec; then
    if [ -f "$RAW/exec.skipped" ]; then
      echo "| exec /bin/true | skipped: $(cat "$RAW/exec.skipped") | | | | <= 0.5 x crun | - |"
    else
      summary_row "exec /bin/true" exec crun "<=" 0.5
    fi
  fi
  want parallel && summary_row "$PAR parallel creators, containers/s" parallel crun ">=" 2
  if want scale; then
    declare -A sr
    for rt in "${RTS[@]}"; do
      sr[$rt]=$(ratio "$(median scale-create-live "$rt")" "$(median scale-create-0 "$rt")")
    done
    echo "| create with $LIVE live / with 0 (each against itself) | kist ${sr[kist]} | crun ${sr[crun]} | runc ${sr[runc]} | | <= 1.1 (kist) | $(verdict "${sr[kist]}" "<=" 1.1) |"
    for rt in "${RTS[@]}"; do
      sr[$rt]=$(ratio "$(median scale-list-live "$rt")" "$(median scale-list-0 "$rt")")
    done
    echo "| list with $LIVE live / with 0 (each against itself) | kist ${sr[kist]} | crun ${sr[crun]} | runc ${sr[runc]} | | - | - |"
    summary_row "create with $LIVE live" scale-create-live "" "" ""
    summary_row "list with $LIVE live" scale-list-live "" "" ""
  fi
  if want rss; then
    summary_row "peak RSS of run" rss-run crun "<=" 0.6
    summary_row "peak RSS of create" rss-create "" "" ""
  fi
  if want memcg; then
    summary_row "memory charged to the container cgroup before start" memcg-exact crun "<=" 0.6
    summary_row "  same, as memory.usage_in_bytes shows it (64-page charge batches)" memcg "" "" ""
  fi
  echo
  echo "### Details: median (min-max)"
  echo
  echo "| scenario | unit | kist | crun | runc | floor |"
  echo "|---|---|---|---|---|---|"
  want run-min && detail "run /bin/true, minimal" run-min ms $ms 1
  want run-podman && detail "run /bin/true, podman-like" run-podman ms $ms 1
  [ -f "$RAW/run-podman-nnp" ] && detail "run, podman-like + NNP" run-podman-nnp ms $ms 1
  want lifecycle && detail "create + start + delete -f" lifecycle ms $ms 1
  want exec && [ ! -f "$RAW/exec.skipped" ] && detail "exec /bin/true" exec ms $ms 1
  want parallel && detail "$PAR parallel creators" parallel "containers/s" 1 1
  if want scale; then
    detail "create, 0 live" scale-create-0 ms $ms 1
    detail "create, $LIVE live" scale-create-live ms $ms 1
    detail "list, 0 live" scale-list-0 ms $ms 1
    detail "list, $LIVE live" scale-list-live ms $ms 1
  fi
  if want rss; then
    detail "peak RSS, run" rss-run MiB "$kb_mib" 2
    detail "peak RSS, create" rss-create MiB "$kb_mib" 2
  fi
  if want memcg; then
    detail "cgroup memory before start (exact)" memcg-exact MiB "$b_mib" 3
    detail "cgroup memory before start (usage_in_bytes)" memcg MiB "$b_mib" 2
  fi
  echo
  echo "CPU time (user + system, the command and the children it waited for), median of per-round means:"
  echo
  echo "| scenario | unit | kist | crun | runc | floor |"
  echo "|---|---|---|---|---|---|"
  for s in run-min:"run, minimal" run-podman:"run, podman-like" run-podman-nnp:"run, podman-like + NNP" \
    lifecycle:"create + start + delete -f" exec:"exec" scale-create-0:"create, 0 live" \
    scale-create-live:"create, $LIVE live" scale-list-live:"list, $LIVE live"; do
    [ -s "$RAW/${s%%:*}.cpu" ] && detail "${s#*:}" "${s%%:*}.cpu" "CPU ms" $ms 2
  done
  echo
  echo "Samples: $RAW (one \"runtime value\" line each; seconds, KiB (rss-*) or bytes (memcg))."
} >"$OUT/results.md"

cat "$OUT/results.md"
say "bench: results in $OUT/results.md"
