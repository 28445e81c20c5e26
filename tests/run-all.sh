#!/bin/bash
# The whole test suite, as root, from the repository: builds kist in build/
# when needed, runs the C unit tests (make check) and every bats file, and
# ends with exactly one line:
#
#   N passed, N failed, N skipped
#
# Exit status 0 only when nothing failed.  Environment:
#   KIST_TESTS="tests/a.bats tests/b.bats"   run only these bats files
#   KIST_BATS_TIMEOUT=SECONDS                bound for one bats file (default 1200)
#   KIST_SKIP_UNIT=1                          skip the C unit tests
#   KIST_ROOTLESS_LANE=0                      skip the rootless lane
#   KIST_VM=0                                 leave out the VM lane (pure cgroup v2
#                                             in qemu, tests/vm/check-vm.sh; not run
#                                             with KIST_TESTS either)
#   KIST_SKIP_ASAN=1, KIST_SKIP_FUZZ=1        skip the sanitizer / fuzzing lanes
#                                             (also skipped when KIST_TESTS is set,
#                                             unless KIST_ASAN=1 / KIST_FUZZ=1)
#   KIST_FUZZ_SECONDS=N                       seconds per fuzz target (default 60)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$PWD
bats_timeout=${KIST_BATS_TIMEOUT:-1200}

# shellcheck source=tests/tally.sh
. tests/tally.sh

if [ "$(id -u)" != 0 ]; then
  echo "run-all.sh: the suite creates containers: run it as root (sudo $0)" >&2
  failed=1
  totals
fi

# ---- build -----------------------------------------------------------------
build() {
  if [ -f config.status ]; then
    echo "run-all.sh: the source tree itself is configured; builds go in build/." >&2
    echo "run-all.sh: run 'make distclean' in $repo first." >&2
    return 1
  fi
  if [ ! -x configure ]; then
    ./autogen.sh || return 1
  fi
  mkdir -p build
  if [ ! -f build/Makefile ]; then
    (cd build && ../configure --enable-werror) >build/configure.out 2>&1 || {
      tail -n 30 build/configure.out
      return 1
    }
  fi
  if ! make -C build -j"$(nproc)" >build/make.out 2>&1; then
    grep -E -m 40 'error|warning|undefined reference' build/make.out
    echo "-- last lines of build/make.out:"
    tail -n 20 build/make.out
    return 1
  fi
}
echo "== build (build/)"
if ! build; then
  echo "run-all.sh: build failed"
  failed=1
  totals
fi

# ---- C unit tests ----------------------------------------------------------
# automake's harness leaves PROG.log (the program's output, TAP) and PROG.trs
# (its verdict) per test program.  A program's TAP lines count one by one; a
# program that printed none counts as one test by its verdict, and one that
# failed without printing "not ok" (a crash, say) adds one failure.
if [ -z "${KIST_SKIP_UNIT:-}" ]; then
  echo "== unit tests (make -C build check)"
  find build -name '*.trs' -delete 2>/dev/null
  timeout 1800 make -C build -s check KIST_NO_BATS=1 >build/unit-check.out 2>&1
  unit_rc=$?
  ntrs=0
  while IFS= read -r trs; do
    ntrs=$((ntrs + 1))
    log=${trs%.trs}.log
    verdict=$(sed -n 's/^:test-result: *//p' "$trs" | head -n 1)
    tap_seen=0
    if [ -f "$log" ]; then
      tap_count "$log"
    fi
    case "$verdict" in
    PASS | XFAIL) [ "$tap_seen" -gt 0 ] || passed=$((passed + 1)) ;;
    SKIP) [ "$tap_seen" -gt 0 ] || skipped=$((skipped + 1)) ;;
    *)
      if [ "$tap_seen" -eq 0 ] || ! grep -q '^not ok' "$log" 2>/dev/null; then
        failed=$((failed + 1))
      fi
      echo "-- ${trs%.trs}: $verdict; its output:"
      [ -f "$log" ] && cat "$log"
      ;;
    esac
    prog=${trs#build/}
    echo "${prog%.trs}: $verdict"
  done < <(find build -name '*.trs' | sort)
  if [ "$unit_rc" -ne 0 ]; then
    echo "-- make check failed (exit $unit_rc):"
    cat build/unit-check.out
    # Nothing ran at all (a unit test did not compile, say): one failure.
    [ "$ntrs" -gt 0 ] || failed=$((failed + 1))
  fi
fi

# ---- bats ------------------------------------------------------------------
echo "== bats"
if [ -n "${KIST_TESTS:-}" ]; then
  read -r -a files <<<"$KIST_TESTS"
else
  files=()
  for f in tests/*.bats tests/*/*.bats; do
    case "$f" in tests/vm/* | tests/rootless.bats | tests/integration/podman-rootless.bats) continue ;; esac # their lanes run them
    [ -f "$f" ] && files+=("$f")
  done
fi
mkdir -p build/bats
# The host's device nodes must come out of every file as they went in: a
# test (or a kist bug) that chmods /dev/null breaks every other user of the
# machine. A change is a failure of that file, and is put back.
host_nodes=(/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx)
nodes_stat() { stat -c '%n %f %u %g %t:%T' "${host_nodes[@]}" 2>/dev/null; }
nodes_before=$(nodes_stat)
for f in "${files[@]}"; do
  out=build/bats/$(basename "$f" .bats).tap
  echo "-- $f"
  # timeout signals its whole process group: a hung file is stopped with the
  # processes it started (containers, in their own sessions, are left to the
  # tests' teardown).
  KIST=$repo/build/kist timeout --kill-after=30 "$bats_timeout" \
    bats --tap "$f" </dev/null 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  tap_count "$out" "$(basename "$f" .bats)"
  bats_verdict "$out" "$rc" "$bats_timeout" "$f"
  if [ "$(nodes_stat)" != "$nodes_before" ]; then
    echo "not ok - $f changed host device nodes:"
    diff <(echo "$nodes_before") <(nodes_stat) | sed 's/^/#   /'
    failed=$((failed + 1))
    while read -r n mode uid gid _; do
      chmod "$(printf '%o' $((0x$mode & 07777)))" "$n" && chown "$uid:$gid" "$n"
    done <<<"$nodes_before"
  fi
done

# lane_wanted NAME: the KIST_SKIP_NAME / KIST_NAME switches (see the top).
lane_wanted() {
  local skip=KIST_SKIP_$1 want=KIST_$1
  [ -z "${!skip:-}" ] || return 1
  [ -z "${KIST_TESTS:-}" ] || [ "${!want:-0}" = 1 ]
}
lane_time() { # NAME START
  echo "# $1 took $((SECONDS - $2))s"
}

# ---- sanitizers --------------------------------------------------------------
# kist built with ASan+UBSan in build/build-asan (as `make check-asan` does)
# and the lifecycle, exec and kill/delete files run against it (their tests
# count again). `make check-asan` adds bad-input (5 more minutes); so does
# KIST_ASAN_TESTS="...". A sanitizer report fails the test that triggered it
# (kist aborts) and adds one failure.
if lane_wanted ASAN; then
  echo "== sanitizers (kist with ASan+UBSan, build/build-asan)"
  t0=$SECONDS
  asan_dir=$repo/build/build-asan
  if ! bash tests/asan.sh build "$asan_dir"; then
    echo "not ok - sanitizers: the ASan build failed"
    failed=$((failed + 1))
  else
    for f in ${KIST_ASAN_TESTS:-tests/lifecycle.bats tests/exec.bats tests/kill-delete.bats}; do
      out=build/bats/asan-$(basename "$f" .bats).tap
      echo "-- $f (asan)"
      timeout --kill-after=30 "$bats_timeout" bash tests/asan.sh run "$asan_dir" "$f" 2>&1 | tee "$out"
      rc=${PIPESTATUS[0]}
      tap_count "$out" "$(basename "$f" .bats)"
      if grep -q '^asan.sh: sanitizer reports' "$out"; then
        echo "not ok - $f (asan): sanitizer reports (above)"
        failed=$((failed + 1))
      elif [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
        echo "not ok - $f (asan): exited with $rc"
        failed=$((failed + 1))
      fi
    done
  fi
  lane_time sanitizers "$t0"
fi

# ---- fuzzing -----------------------------------------------------------------
# Every libFuzzer target for KIST_FUZZ_SECONDS (60) with ASan+UBSan; each
# target counts as one test.
if lane_wanted FUZZ; then
  echo "== fuzzing (tests/fuzz/run.sh, ${KIST_FUZZ_SECONDS:-60}s per target)"
  t0=$SECONDS
  out=build/bats/fuzz.tap
  sh tests/fuzz/run.sh 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  tap_count "$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
    echo "not ok - fuzzing: tests/fuzz/run.sh exited with $rc (build failure?)"
    failed=$((failed + 1))
  fi
  lane_time fuzzing "$t0"
fi

# ---- rootless lane ---------------------------------------------------------
# A subset of the files again, run by an unprivileged user that
# tests/rootless/run.sh creates (kisttest, with /etc/subuid ranges), plus
# tests/rootless.bats; results are prefixed "rootless:" and counted here.
# About 5 minutes. KIST_ROOTLESS_LANE=0 leaves it out.
if [ "${KIST_ROOTLESS_LANE:-1}" = 1 ] && [ -z "${KIST_TESTS:-}" ]; then
  echo "== rootless lane (tests/rootless/run.sh)"
  rl_out=build/rootless.out
  KIST_BATS_TIMEOUT=$bats_timeout bash tests/rootless/run.sh 2>&1 | tee "$rl_out"
  if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$rl_out" | tail -n 1); then
    read -r p _ f _ s _ <<<"${line//,/}"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  else
    echo "not ok - rootless lane: no totals line"
    failed=$((failed + 1))
  fi
fi

# ---- VM lane ---------------------------------------------------------------
# The pure cgroup v2 / systemd subset in a qemu guest (tests/vm/check-vm.sh;
# KIST_VM=0 leaves it out).  Its results count in the totals, each name
# prefixed "[vm]" or "[vm-systemd]"; a host without qemu gets a loud skip.
if [ "${KIST_VM:-1}" != 0 ] && [ -z "${KIST_TESTS:-}" ]; then
  echo "== VM lane (pure cgroup v2, tests/vm/check-vm.sh)"
  vm_tap=build/bats/vm.tap
  rm -f "$vm_tap"
  KIST_BUILD=$repo/build bash tests/vm/check-vm.sh --allow-skip --tap "$vm_tap" </dev/null 2>&1
  if [ -s "$vm_tap" ]; then
    echo "-- VM lane results:"
    cat "$vm_tap"
    tap_count "$vm_tap" vm
  else
    echo "not ok - VM lane: tests/vm/check-vm.sh wrote no results"
    failed=$((failed + 1))
  fi
elif [ "${KIST_VM:-1}" = 0 ]; then
  echo "== VM lane: not run (KIST_VM=0)"
fi

totals
