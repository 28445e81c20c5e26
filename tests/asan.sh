#!/bin/bash
# kist with AddressSanitizer + UndefinedBehaviorSanitizer, for `make
# check-asan` and tests/run-all.sh:
#
#   tests/asan.sh build DIR            configure (once) and build kist in DIR
#   tests/asan.sh run DIR FILE.bats... run bats files with KIST=DIR/kist
#
# Leaks are reported by LeakSanitizer at exit of every kist command (and
# fail it); ASan/UBSan reports go to stderr, so a test that checks stderr
# fails too. Any report is also logged to DIR/asan.log.PID.
set -uo pipefail
cmd=$1 dir=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"

case $cmd in
build)
  mkdir -p "$dir" || exit 1
  if [ ! -f "$dir/Makefile" ]; then
    [ -x "$src/configure" ] || (cd "$src" && ./autogen.sh) || exit 1
    # No --enable-werror: -O1 brings warnings the -O2 build does not have.
    (cd "$dir" && "$src/configure" CFLAGS="$flags" \
      LDFLAGS="-fsanitize=address,undefined") >"$dir/configure.out" 2>&1 || {
      tail -n 30 "$dir/configure.out"
      exit 1
    }
  fi
  make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 || {
    grep -E -m 20 'error|warning' "$dir/make.out"
    tail -n 20 "$dir/make.out"
    exit 1
  }
  ;;
run)
  rm -f "$dir"/asan.log.*
  export KIST=$dir/kist
  # abort_on_error: a report ends kist with SIGABRT, which no test takes for
  # an ordinary failure. log_path keeps the reports (stderr gets them too).
  # ASan reserves terabytes of address space for its shadow, so the bad-input
  # tests' `ulimit -v` cannot apply; ASan bounds each allocation instead.
  # (Not hard_rss_limit_mb: its watcher thread can hold an allocator lock
  # when kist forks, and the child then hangs in malloc.)
  export KIST_BAD_INPUT_VMEM=unlimited
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$dir/asan.log:max_allocation_size_mb=2048
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$dir/asan.log
  rc=0
  for f in "$@"; do
    bats --tap "$f" </dev/null || rc=1
  done
  if ls "$dir"/asan.log.* >/dev/null 2>&1; then
    echo "asan.sh: sanitizer reports:"
    head -n 40 "$dir"/asan.log.*
    rc=1
  fi
  exit $rc
  ;;
*)
  echo "usage: tests/asan.sh build DIR | run DIR FILE.bats..." >&2
  exit 2
  ;;
esac
