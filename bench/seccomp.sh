#!/bin/bash
# Seccomp and exec benchmarks: `run` of /bin/true with
# tests/fixtures/podman-like-config.json (Podman's 437-syscall profile) for
# kist with a cold filter cache (emptied before every run) and a warm one,
# beside crun and runc from Debian; and `exec ID /bin/true` latency in a
# running container (kist's spec config and the podman-like one) for the
# three runtimes. Every scenario runs the runtimes interleaved, in a fresh
# random order each round, so machine noise lands on all alike. Needs root.
#
#   sudo bench/seccomp.sh [-k KIST] [-r ROUNDS] [-n RUNS] [-o DIR]
#
#   -k KIST     kist binary (default $KIST, else build/kist)
#   -r ROUNDS   interleaved rounds per scenario (default 10)
#   -n RUNS     runs of each command per round (default 3)
#   -o DIR      keep the raw samples (one "label seconds" line each) there
#
# Prints medians (wall clock, hyperfine -N) and the ratios kist/crun,
# kist/runc and cold/warm; below 1 means kist is faster.
#
# crun 1.8.1 refuses a hybrid cgroup host (v1 controllers plus a v2 mount at
# /sys/fs/cgroup/unified): the script re-runs itself in a private mount
# namespace and unmounts /sys/fs/cgroup/unified there only. The host's
# mounts are never touched. Every container it makes lives under its own
# state roots and is deleted by id on exit.
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench_dir")
KIST=${KIST:-$repo/build/kist}
ROUNDS=10
RUNS=3
OUT=
orig_args=("$@")
while getopts "k:r:n:o:h" opt; do
  case $opt in
  k) KIST=$OPTARG ;;
  r) ROUNDS=$OPTARG ;;
  n) RUNS=$OPTARG ;;
  o) OUT=$OPTARG ;;
  h)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) exit 2 ;;
  esac
done

say() { printf '%s\n' "$*" >&2; }
die() {
  say "bench/seccomp: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "creates containers and cgroups: run as root"
KIST=$(readlink -f "$KIST") || true
[ -x "$KIST" ] || die "no kist binary at ${KIST:-?} (build it, or pass -k / set KIST)"

if [ "${KIST_SECCOMP_BENCH_IN_NS:-}" != 1 ]; then
  export KIST_SECCOMP_BENCH_IN_NS=1
  exec unshare -m --propagation private bash "$0" "${orig_args[@]}" -k "$KIST"
fi
# Never act on the host's mount namespace, whatever the environment says.
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
  die "not in a private mount namespace; refusing to touch cgroup mounts"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
  [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
  umount /sys/fs/cgroup/unified # this namespace only
fi

for t in crun runc hyperfine jq; do
  command -v "$t" >/dev/null || die "needs $t (apt-get install $t)"
done

WORK=$(mktemp -d /tmp/kist-seccomp-bench.XXXXXX)
RAW=${OUT:-$WORK/raw}
mkdir -p "$RAW"
RTS=(kist-cold kist-warm crun runc)

rt_cmd() {
  case $1 in
  kist-cold) echo "$KIST --root $WORK/state-kist-cold" ;;
  kist-warm | kist) echo "$KIST --root $WORK/state-kist-warm" ;;
  crun) echo "crun --root $WORK/state-crun" ;;
  runc) echo "runc --root $WORK/state-runc" ;;
  esac
}

# Every id is written down before it is used, so cleanup finds it.
track() { echo "$2" >>"$WORK/ids-$1"; }

cleanup() {
  set +e
  local rt
  for rt in kist-cold kist-warm crun runc; do
    [ -f "$WORK/ids-$rt" ] || continue
    sort -u "$WORK/ids-$rt" | while read -r id; do
      $(rt_cmd "$rt") delete -f "$id" >/dev/null 2>&1
    done
  done
  rm -rf "$WORK" # the raw samples survive only in -o DIR
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- bundles -----------------------------------------------------------------
B=$WORK/bundles
mkdir -p "$B/spec"
"$repo/contrib/demo/make-rootfs.sh" "$B/rootfs" >/dev/null
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu)
[ "$hard_nproc" = unlimited ] && hard_nproc=4194304
# crun 1.8.1 refuses ociVersion 1.3.0; no runtime can raise a hard rlimit
# above ours.
fixup='.ociVersion = "1.0.2-dev" | .root.path = $rootfs | .process.terminal = false
  | .process.rlimits = [(.process.rlimits // [])[]
      | (if .type == "RLIMIT_NOFILE" then $nofile elif .type == "RLIMIT_NPROC" then $nproc
         else null end) as $max
      | if $max then .hard = ([.hard, $max] | min) | .soft = ([.soft, .hard] | min) else . end]'
mkbundle() { # NAME SOURCE-CONFIG JQ-FILTER
  mkdir -p "$B/$1"
  jq --arg rootfs "$B/rootfs" --argjson nofile "$hard_nofile" --argjson nproc "$hard_nproc" \
    "$fixup | $3" "$2" >"$B/$1/config.json"
}
"$KIST" spec --bundle "$B/spec" >/dev/null
podman=$repo/tests/fixtures/podman-like-config.json
mkbundle podman "$podman" '.process.args = ["/bin/true"]'
mkbundle live "$B/spec/config.json" '.process.args = ["sleep", "3600"]'
mkbundle podman-live "$podman" '.process.args = ["sleep", "3600"]'

# ---- timing --------------------------------------------------------------------
# measure SCENARIO LABEL CMD PREPARE [LABEL CMD PREPARE ...]: ROUNDS rounds of
# hyperfine, commands shuffled each round; samples go to $RAW/SCENARIO.
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
  local r i n=${#labels[@]}
  for ((r = 1; r <= ROUNDS; r++)); do
    local -a args=()
    for i in $(shuf -i 0-$((n - 1))); do
      args+=(-n "${labels[i]}" --prepare "${preps[i]}" "${cmds[i]}")
    done
    local warm=0
    [ "$r" = 1 ] && warm=1
    if hyperfine -N --style none -w "$warm" -r "$RUNS" --export-json "$WORK/h.json" \
      "${args[@]}" >"$WORK/h.out" 2>&1; then
      jq -r '.results[] | .command as $c | .times[] | "\($c) \(.)"' "$WORK/h.json" >>"$RAW/$scen"
      # CPU (user + system of the command and the children it waited for):
      # steadier than wall time on a busy machine. One mean per round.
      jq -r '.results[] | "\(.command) \(.user + .system)"' "$WORK/h.json" >>"$RAW/$scen.cpu"
    else
      say "bench/seccomp: $scen round $r failed: $(grep -m1 -i -E 'error|fail' "$WORK/h.out" || tail -n1 "$WORK/h.out")"
    fi
  done
}

median_ms() { # SCENARIO LABEL
  [ -f "$RAW/$1" ] || return 0
  awk -v l="$2" '$1 == l { print $2 * 1000 }' "$RAW/$1" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
min_ms() { # SCENARIO LABEL
  [ -f "$RAW/$1" ] || return 0
  awk -v l="$2" '$1 == l { print $2 * 1000 }' "$RAW/$1" | sort -g | head -1 | awk '{ printf "%.2f", $1 }'
}
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'
}

# Runs a command once; on failure says why and returns 1.
preflight() { # LABEL CMD...
  local label=$1 rc=0
  shift
  "$@" >/dev/null 2>"$WORK/preflight.err" </dev/null || rc=$?
  [ "$rc" = 0 ] && return 0
  say "bench/seccomp: $label does not work here: $(tail -n 1 "$WORK/preflight.err")"
  return 1
}

# ---- run with the podman-like profile: cold cache, warm cache, crun, runc ---------
say "bench/seccomp: run, podman-like config ($ROUNDS rounds x $RUNS runs)"
spec=()
cold_cache=$WORK/state-kist-cold/.seccomp-cache
for rt in "${RTS[@]}"; do
  k=$(rt_cmd "$rt")
  track "$rt" ks-run
  # shellcheck disable=SC2086
  preflight "$rt" $k run --bundle "$B/podman" ks-run || continue
  prep=true
  [ "$rt" = kist-cold ] && prep="rm -rf $cold_cache"
  spec+=("$rt" "$k run --bundle $B/podman ks-run" "$prep")
done
measure run-podman "${spec[@]}"
# The cold runs really compiled, the warm ones really hit.
rm -rf "$cold_cache"
cold_check=$("$KIST" --root "$WORK/state-kist-cold" --debug run --bundle "$B/podman" ks-run 2>&1 >/dev/null |
  grep -o 'seccomp: [a-z ]*' | head -1 || true)
warm_check=$("$KIST" --root "$WORK/state-kist-warm" --debug run --bundle "$B/podman" ks-run 2>&1 >/dev/null |
  grep -o 'seccomp: [a-z ]*' | head -1 || true)

# ---- exec latency ------------------------------------------------------------------
exec_scenario() { # SCENARIO BUNDLE
  local scen=$1 bundle=$2 rt k id=ks-$1
  local -a spec=()
  for rt in kist crun runc; do
    k=$(rt_cmd "$rt")
    track "${rt/kist/kist-warm}" "$id"
    # shellcheck disable=SC2086
    preflight "$rt exec" sh -c "$k create --bundle $B/$bundle $id && $k start $id && $k exec $id true" ||
      continue
    spec+=("$rt" "$k exec $id true" "")
  done
  say "bench/seccomp: $scen ($ROUNDS rounds x $RUNS runs)"
  measure "$scen" "${spec[@]}"
  for rt in kist crun runc; do
    $(rt_cmd "$rt") delete -f "$id" >/dev/null 2>&1 || true
  done
}
exec_scenario exec-spec live
exec_scenario exec-podman podman-live

# ---- report --------------------------------------------------------------------------
report() { # SCENARIO TITLE: medians of wall and CPU ms, ratios to crun and runc
  local scen=$1 l
  local -a labels
  read -ra labels <<<"$(awk '{ print $1 }' "$RAW/$scen" 2>/dev/null | sort -u | tr '\n' ' ')"
  echo
  echo "$2: ms, wall median / wall min / cpu median"
  for l in "${labels[@]}"; do
    printf '  %-10s %8s %8s %8s\n' "$l" "$(median_ms "$scen" "$l")" "$(min_ms "$scen" "$l")" \
      "$(median_ms "$scen.cpu" "$l")"
  done
  local o
  for l in "${labels[@]}"; do
    case $l in crun | runc) continue ;; esac
    for o in crun runc; do
      printf '  %-10s /%s  median %s  min %s  cpu %s\n' "$l" "$o" \
        "$(ratio "$(median_ms "$scen" "$l")" "$(median_ms "$scen" $o)")" \
        "$(ratio "$(min_ms "$scen" "$l")" "$(min_ms "$scen" $o)")" \
        "$(ratio "$(median_ms "$scen.cpu" "$l")" "$(median_ms "$scen.cpu" $o)")"
    done
  done
}
report run-podman "run /bin/true, podman-like config"
echo "  kist warm/cold $(ratio "$(median_ms run-podman kist-warm)" "$(median_ms run-podman kist-cold)") (cpu $(ratio "$(median_ms run-podman.cpu kist-warm)" "$(median_ms run-podman.cpu kist-cold)"))  [cold runs: ${cold_check:-?}; warm runs: ${warm_check:-?}]"
report exec-spec "exec ID true, kist spec's config"
report exec-podman "exec ID true, podman-like config"
[ -n "$OUT" ] && echo && echo "raw samples: $RAW"
exit 0
