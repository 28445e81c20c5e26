#!/bin/bash
# The VM lane's check: runs the pure-cgroup-v2 subset of kist's bats tests in
# a qemu TCG guest (tests/vm/run.sh) and ends with one line:
#   N passed, N failed, N skipped
#
#   tests/vm/check-vm.sh [--allow-skip] [--no-systemd] [--tap FILE]
#
# Boot 1, busybox as init: tests/vm/smoke.bats (the lane itself: cgroup v2,
# crun/runc/kist run a container) and tests/{lifecycle,cgroups,update,pause,
# seccomp,exec,checkpoint,rootless-cgroup}.bats, less the tests listed in EXCLUDE below.  Boot 2, systemd as
# PID 1: only what differs there, the smoke, cgroups and rootless-cgroup tests about systemd
# (--systemd-cgroup through a transient scope, the user's manager); skipped with --no-systemd or
# when the host has no systemd.  kist comes from $KIST_BUILD (default build/).
#
# Boot 3, busybox: the Podman basics and checkpoint/restore of
# tests/integration/podman.bats, prefixed "[vm-podman] " in the TAP
# (KIST_VM_PODMAN=0 leaves it out; KIST_VM_PODMAN_TIMEOUT bounds it, 1200).
#
# --tap FILE: every result of both boots as one TAP stream, each test name
# prefixed "[vm] " or "[vm-systemd] "; a boot that timed out or crashed adds
# a "not ok" per missing test (tests/run-all.sh counts this file).
# KIST_VM_SUBSET="lifecycle cgroups" narrows boot 1; KIST_VM_TIMEOUT bounds
# it (seconds, default 2400; KIST_VM_SYSTEMD_TIMEOUT: boot 2, 900).
#
# A host without qemu-system-x86_64 is a failure, unless --allow-skip: then a
# loud SKIP line and exit 0.  KVM is not used (TCG), so /dev/kvm is irrelevant.

set -u
# All in one block: bash parses it whole before running it, so an edit of
# this file does not break a run in progress.
{
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
SUBSET=${KIST_VM_SUBSET:-lifecycle cgroups update pause seccomp exec checkpoint rootless-cgroup}
# Tests of those files that boot 1 leaves out (regexes on test names): they
# would only skip there, run in boot 2, or check what is the same on every
# kernel and cgroup layout (input validation, bookkeeping), which the host
# suite covers.  Each test costs 5-15 s under TCG.
EXCLUDE=(
  # cgroup v1 or hybrid only
  'land in the v1 files' 'memsw\) on v1' 'blkio throttling and weight'
  'deny all first, the config' 'hybrid' 'joined cgroup already uses'
  # systemd as PID 1: boot 2
  '^systemd: ' 'with systemd running'
  # lifecycle.bats: keep create/start/kill/delete, cgroup cleanup, hooks, pty
  '^start twice' '^start of a stopped' '^start without a process' '^create of an existing id'
  '^unknown id' 'bad id fails' 'missing rootfs' 'pid file' 'invalid config is refused'
  'missing cwd' "stdout is create's stdout" 'failing createRuntime hook'
  "bundle's config may change" 'holds no host file descriptors' 'without --console-socket'
  '^hooks run in' '^terminal: the pty master'
  # seccomp.bats: keep what the kernel does (actions, flags, cache, notify)
  'config errors name the field' 'unknown action names' 'unknown syscall names'
  'every operator compares' 'two conditions on one argument' 'defaultErrnoRet is what'
  'ERRNO without errnoRet' 'podman-like profile runs'
  # exec.bats: keep namespaces, cgroups, seccomp, caps, freezer, helper privacy, userns
  'exit codes 0' '--user, --additional-gids' '--process FILE overrides' '--process errors'
  'config with inheritable caps'
  '50 parallel execs' 'no fd leaks' 'LISTEN_FDS' '-d returns at once' 'forwards signals'
  # checkpoint.bats: the dumps run here (criu 3.17 fails on the host's kernel),
  # the error cases on the host
  'without CRIU, checkpoint' 'restore from a missing' 'a bad --parent-path'
  'restore under an id that exists' '--lazy-pages is refused'
)

allow_skip=0 systemd=1 tap=""
while [ $# -gt 0 ]; do
  case "$1" in
    --allow-skip) allow_skip=1 ;;
    --no-systemd) systemd=0 ;;
    --tap) tap=${2:?}; shift ;;
    --tap=*) tap=${1#--tap=} ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) echo "usage: $0 [--allow-skip] [--no-systemd] [--tap FILE]" >&2; exit 2 ;;
  esac
  shift
done
[ -z "$tap" ] || : > "$tap" || exit 2

missing=""
for tool in qemu-system-x86_64 cpio bats jq; do
  command -v "$tool" > /dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "************************************************************************"
  if [ "$allow_skip" = 1 ]; then
    echo "SKIP: VM lane not run: missing$missing (install: tests/vm/deps.txt)"
    echo "************************************************************************"
    [ -z "$tap" ] || printf '1..1\nok 1 [vm] VM lane (pure cgroup v2) # skip missing%s\n' \
      "$missing" > "$tap"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
  fi
  echo "FAIL: VM lane cannot run: missing$missing (install: tests/vm/deps.txt;"
  echo "      --allow-skip turns this into a skip)"
  echo "************************************************************************"
  [ -z "$tap" ] || printf '1..1\nnot ok 1 [vm] VM lane (pure cgroup v2): missing%s\n' \
    "$missing" > "$tap"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

KIST_BUILD=${KIST_BUILD:-$REPO/build}
export KIST_BUILD
if [ ! -x "$KIST_BUILD/kist" ]; then
  echo "check-vm: WARNING: no kist binary at $KIST_BUILD/kist; kist tests will skip or fail"
fi

passed=0 failed=0 skipped=0 number=0
tapline () { # LINE...: one line of the combined TAP (results are renumbered)
  [ -z "$tap" ] || printf '%s\n' "$@" >> "$tap.body"
}
# count_tap FILE RC PREFIX: add a guest TAP file's results to the totals and
# the combined TAP.  A run that died (timeout, crash) counts its missing
# tests, or itself, as failures.
count_tap () {
  local file=$1 rc=$2 prefix=$3 line plan=0 n=0 nf=0
  while IFS= read -r line; do
    case "$line" in
      1..*) plan=${line#1..}; continue ;;
      "ok "*"# skip"* | "ok "*"# SKIP"*) skipped=$((skipped + 1)) ;;
      "ok "*) passed=$((passed + 1)) ;;
      "not ok "*) failed=$((failed + 1)) nf=$((nf + 1)) ;;
      *) tapline "$line"; continue ;;
    esac
    n=$((n + 1)) number=$((number + 1))
    [[ "$line" =~ ^(ok|not\ ok)\ [0-9]+\ (.*)$ ]]
    tapline "${BASH_REMATCH[1]} $number $prefix ${BASH_REMATCH[2]}"
  done < <(cat "$file" 2> /dev/null)
  [[ "$plan" =~ ^[0-9]+$ ]] || plan=0
  if [ "$n" -lt "$plan" ]; then
    failed=$((failed + plan - n))
    for ((; n < plan; n++)); do
      number=$((number + 1))
      tapline "not ok $number $prefix test $((n + 1)) of $plan: no result (guest exit $rc)"
    done
  elif [ "$rc" != 0 ] && [ "$nf" = 0 ]; then
    failed=$((failed + 1)) number=$((number + 1))
    tapline "not ok $number $prefix guest run failed (exit $rc; see its console above)"
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kist-check-vm.XXXXXX") || exit 1
trap 'rm -rf "$tmp" ${tap:+"$tap.body"}' EXIT
lane_start=$(date +%s)

files=tests/vm/smoke.bats
for t in $SUBSET; do
  [ -f "$REPO/tests/$t.bats" ] && files="$files,$t"
done
echo "== VM lane, init=busybox: ${files//,/ }"
start=$(date +%s)
# Bounded so that a hung guest leaves CI time to report.
exclude=$(IFS='|' && echo "${EXCLUDE[*]}")
"$HERE/run.sh" --init=busybox --filter "$files" --exclude "$exclude" \
  --output "$tmp/busybox.tap" --timeout "${KIST_VM_TIMEOUT:-2400}"
rc=$?
echo "== VM lane, init=busybox: exit $rc after $(($(date +%s) - start)) s"
count_tap "$tmp/busybox.tap" "$rc" "[vm]"

if [ "$systemd" = 1 ] && [ -x /lib/systemd/systemd ]; then
  # Only what differs under systemd: the rest ran in the busybox guest.
  echo "== VM lane, init=systemd: systemd tests of tests/vm/smoke.bats, tests/cgroups.bats, tests/rootless-cgroup.bats"
  start=$(date +%s)
  "$HERE/run.sh" --init=systemd --filter tests/vm/smoke.bats,cgroups,rootless-cgroup --output "$tmp/systemd.tap" \
    --grep 'systemd|cgroup v2' --timeout "${KIST_VM_SYSTEMD_TIMEOUT:-900}"
  rc=$?
  echo "== VM lane, init=systemd: exit $rc after $(($(date +%s) - start)) s"
  count_tap "$tmp/systemd.tap" "$rc" "[vm-systemd]"
elif [ "$systemd" = 1 ]; then
  echo "SKIP: VM lane, init=systemd: no /lib/systemd/systemd on the host"
  skipped=$((skipped + 1)) number=$((number + 1))
  tapline "ok $number [vm-systemd] systemd boot # skip no /lib/systemd/systemd on the host"
fi

# Boot 3, busybox as init: Podman driving kist on pure cgroup v2, and
# `podman container checkpoint/restore` (CRIU works on the guest's kernel,
# not on the host's).  A boot of its own, with its own bound, so that a slow
# Podman cannot eat the other boots' time.  KIST_VM_PODMAN=0 leaves it out.
if [ "${KIST_VM_PODMAN:-1}" != 0 ] && command -v podman > /dev/null; then
  podman_tests='run --rm passes|run -d, exec, logs|--memory, --pids-limit|pause and unpause|top lists'
  podman_tests="$podman_tests|checkpoint"
  echo "== VM lane, init=busybox: Podman basics and checkpoint/restore (tests/integration/podman.bats)"
  start=$(date +%s)
  "$HERE/run.sh" --init=busybox --filter tests/integration/podman.bats --grep "^podman: ($podman_tests)" \
    --output "$tmp/podman.tap" --timeout "${KIST_VM_PODMAN_TIMEOUT:-1200}"
  rc=$?
  echo "== VM lane, Podman: exit $rc after $(($(date +%s) - start)) s"
  count_tap "$tmp/podman.tap" "$rc" "[vm-podman]"
elif [ "${KIST_VM_PODMAN:-1}" != 0 ]; then
  echo "SKIP: VM lane, Podman: podman is not installed on the host (contrib/deps.sh)"
  skipped=$((skipped + 1)) number=$((number + 1))
  tapline "ok $number [vm-podman] Podman boot # skip podman is not installed on the host"
fi

if [ -n "$tap" ]; then
  { echo "1..$number"; cat "$tap.body" 2> /dev/null; } > "$tap"
fi
echo "== VM lane: $(($(date +%s) - lane_start)) s in all"
echo "$passed passed, $failed failed, $skipped skipped"
exit $((failed > 0 ? 1 : 0))
}
