#!/bin/bash
# The VM lane's check: runs the pure-cgroup-v2 subset of kist's bats tests in
# a qemu TCG guest (tests/vm/run.sh) and ends with one line:
#   N passed, N failed, N skipped
#
#   tests/vm/check-vm.sh [--allow-skip] [--no-systemd]
#
# Runs, in one busybox-init guest: tests/vm/smoke.bats (the lane itself:
# cgroup v2, crun/runc/kist run a container) and whichever of
# tests/{lifecycle,cgroups,seccomp,exec}.bats exist; then the cgroup and
# systemd tests of tests/vm/smoke.bats with systemd as PID 1 (skipped with
# --no-systemd, or when the host has no systemd).  kist comes from $KIST_BUILD (default build/).
#
# A host without qemu-system-x86_64 is a failure, unless --allow-skip: then a
# loud SKIP line and exit 0.  KVM is not used (TCG), so /dev/kvm is irrelevant.

set -u
# All in one block: bash parses it whole before running it, so an edit of
# this file does not break a run in progress.
{
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
SUBSET="lifecycle cgroups seccomp exec"

allow_skip=0 systemd=1
for a in "$@"; do
  case "$a" in
    --allow-skip) allow_skip=1 ;;
    --no-systemd) systemd=0 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--allow-skip] [--no-systemd]" >&2; exit 2 ;;
  esac
done

missing=""
for tool in qemu-system-x86_64 cpio bats jq; do
  command -v "$tool" > /dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "************************************************************************"
  if [ "$allow_skip" = 1 ]; then
    echo "SKIP: VM lane not run: missing$missing (install: tests/vm/deps.txt)"
    echo "************************************************************************"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
  fi
  echo "FAIL: VM lane cannot run: missing$missing (install: tests/vm/deps.txt;"
  echo "      --allow-skip turns this into a skip)"
  echo "************************************************************************"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

KIST_BUILD=${KIST_BUILD:-$REPO/build}
export KIST_BUILD
if [ ! -x "$KIST_BUILD/kist" ]; then
  echo "check-vm: WARNING: no kist binary at $KIST_BUILD/kist; kist tests will skip or fail"
fi

passed=0 failed=0 skipped=0
# count_tap FILE RC: add a TAP file's results to the totals.  A run that died
# (timeout, crash) counts its missing tests, or itself, as failures.
count_tap () {
  local file=$1 rc=$2 line plan=0 n=0 nf=0
  while IFS= read -r line; do
    case "$line" in
      1..*) plan=${line#1..} ;;
      "ok "*"# skip"* | "ok "*"# SKIP"*) skipped=$((skipped + 1)) n=$((n + 1)) ;;
      "ok "*) passed=$((passed + 1)) n=$((n + 1)) ;;
      "not ok "*) failed=$((failed + 1)) n=$((n + 1)) nf=$((nf + 1)) ;;
    esac
  done < <(cat "$file" 2> /dev/null)
  [[ "$plan" =~ ^[0-9]+$ ]] || plan=0
  if [ "$n" -lt "$plan" ]; then
    failed=$((failed + plan - n))
  elif [ "$rc" != 0 ] && [ "$nf" = 0 ]; then
    failed=$((failed + 1))
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kist-check-vm.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

files=tests/vm/smoke.bats
for t in $SUBSET; do
  [ -f "$REPO/tests/$t.bats" ] && files="$files,$t"
done
echo "== VM lane, init=busybox: ${files//,/ }"
start=$(date +%s)
# Bounded so that a hung guest leaves CI time to report (KIST_VM_TIMEOUT).
"$HERE/run.sh" --init=busybox --filter "$files" --output "$tmp/busybox.tap" \
  --timeout "${KIST_VM_TIMEOUT:-2400}"
rc=$?
echo "== VM lane, init=busybox: exit $rc after $(($(date +%s) - start)) s"
count_tap "$tmp/busybox.tap" "$rc"

if [ "$systemd" = 1 ] && [ -x /lib/systemd/systemd ]; then
  # Only what differs under systemd: the rest ran in the busybox guest.
  echo "== VM lane, init=systemd: tests/vm/smoke.bats (cgroup and systemd tests)"
  start=$(date +%s)
  "$HERE/run.sh" --init=systemd --filter tests/vm/smoke.bats --output "$tmp/systemd.tap" \
    --grep '^systemd: |cgroup v2'

  rc=$?
  echo "== VM lane, init=systemd: exit $rc after $(($(date +%s) - start)) s"
  count_tap "$tmp/systemd.tap" "$rc"
elif [ "$systemd" = 1 ]; then
  echo "SKIP: VM lane, init=systemd: no /lib/systemd/systemd on the host"
  skipped=$((skipped + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
exit $((failed > 0 ? 1 : 0))
}
