#!/bin/sh
# Fuzz kist's parsers with libFuzzer, every target for KIST_FUZZ_SECONDS (60)
# each:
#
#   fuzz-config    libocispec's config/state/features parser and generator
#   fuzz-validate  every check `kist create` makes on a parsed config
#   fuzz-state     the state store's reader (state.json), save/load round trip
#   fuzz-parsers   ids, signals, cpu lists, sysctl keys, cgroupsPath, mount
#                  destinations and options, capability names, integers
#
#   tests/fuzz/run.sh                         # all targets, 60 s each (CI)
#   KIST_FUZZ_SECONDS=3600 tests/fuzz/run.sh  # longer, on demand
#   FUZZ_TARGETS="fuzz-state" tests/fuzz/run.sh
#   FUZZ_JOBS=2                               # fuzzing processes per target
#   FUZZ_PARALLEL=1                           # targets at a time (default: CPUs)
#
# Seeds: the corpus kept in the repository (tests/fuzz/corpus/<target>/,
# written by make-corpus.py) plus, for the JSON targets, every config
# fixture. What libFuzzer finds goes to a scratch corpus, never the repo.
# One line per target on stdout, "ok - fuzz: TARGET ..." or "not ok - ...",
# for tests/run-all.sh to count.
#
# Generates ocispec.[ch] fresh from the schemas into a temporary directory,
# builds libkist and every tests/fuzz/fuzz-*.c with clang
# -fsanitize=fuzzer,address,undefined, and runs each target (fork mode, going
# on after a crash) seeded with the fixtures, a dictionary of the schemas'
# property names and enum values, and per-target seeds. On a crash the work
# directory (with the crashing inputs, TARGET/crash-*, and each target's log)
# is kept and its path printed; exit status non-zero.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=${KIST_FUZZ_SECONDS:-${FUZZ_SECONDS:-60}}
cc=${CLANG:-clang}
jobs=${FUZZ_JOBS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/kist-fuzz.XXXXXX")
targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz-*.c | sed 's/\.c$//' | tr '\n' ' ')}

python3 "$top/libocispec/gen.py" --schema-dir "$top/libocispec/schema" --out-dir "$work/gen"

# What configure would define, for libkist's sources.
cat >"$work/gen/config.h" <<'EOF'
#define _GNU_SOURCE 1
#define PACKAGE "kist"
#define PACKAGE_VERSION "fuzz"
#define VERSION "fuzz"
#define KIST_COMMIT "fuzz"
#define KIST_SPEC_VERSION "1.3.0"
EOF

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer"
libs=$(pkg-config --libs yajl libcap libseccomp libselinux libsystemd 2>/dev/null ||
  pkg-config --libs yajl libcap libseccomp)
incs="-include $work/gen/config.h -I$top/include -iquote $top/src/libkist -I$work/gen -I$top/libocispec"

# libkist (every source Makefile.am lists) plus libocispec, instrumented, as
# an archive: each target pulls in what it uses.
mkdir -p "$work/obj"
srcs=$(sed -n '/^libkist_core_la_SOURCES/,/^$/p' "$top/Makefile.am" | grep -o 'src/libkist/[A-Za-z0-9_-]*\.c')
echo "fuzz: building libkist with sanitizers" >&2
compile() {
  o=$work/obj/$(basename "$1" .c).o
  # shellcheck disable=SC2086
  "$cc" $cflags $sanitize -fsanitize=fuzzer-no-link $incs -c "$top/$1" -o "$o" \
    2>"$work/build-$(basename "$1" .c).log" && return 0
  # clang refuses some things gcc lets through (a goto past a cleanup
  # variable's initialisation is one): say so, and build that file with gcc,
  # uninstrumented, so the targets still link.
  echo "fuzz: warning: clang cannot compile $1 (built with gcc, not instrumented):" >&2
  grep -m 3 'error:' "$work/build-$(basename "$1" .c).log" | sed 's/^/  /' >&2
  # shellcheck disable=SC2086
  ${GCC:-gcc} $cflags $incs -c "$top/$1" -o "$o"
}
# libocispec's generated parser, the largest file, alongside the rest; then
# as many compilers at a time as there are CPUs.
# shellcheck disable=SC2086
"$cc" $cflags $sanitize -fsanitize=fuzzer-no-link $incs -c "$work/gen/ocispec.c" -o "$work/obj/ocispec.o" &
ncpu=$(nproc 2>/dev/null || echo 1)
n=0
for s in $srcs; do
  compile "$s" &
  n=$((n + 1))
  [ $((n % ncpu)) -ne 0 ] || wait
done
wait
# shellcheck disable=SC2086
"$cc" $cflags $sanitize -fsanitize=fuzzer-no-link $incs -c "$top/libocispec/json.c" -o "$work/obj/json.o"
ar rcs "$work/libkist-fuzz.a" "$work"/obj/*.o

for t in $targets; do
  echo "fuzz: building $t" >&2
  # shellcheck disable=SC2086
  "$cc" $cflags $sanitize -fsanitize=fuzzer $incs "$here/$t.c" "$work/libkist-fuzz.a" \
    $libs $(pkg-config --cflags --libs yajl) -o "$work/$t"
done

# ---- seeds ----

mkdir -p "$work/seed-json"
for f in "$top"/tests/fixtures/config-good/*.json "$top"/libocispec/schema/test/*/good/*.json \
  "$top"/tests/fixtures/config-bad/*.json "$top"/tests/fixtures/*.json; do
  [ -f "$f" ] && cp "$f" "$work/seed-json/$(echo "$f" | sed "s|^$top/||; s|/|_|g")"
done

# Dictionary: "key" tokens for every property name and enum value, and the
# strings the validators look for.
python3 - "$top/libocispec/schema" >"$work/dict" <<'PY'
import json, os, sys
words = set()
def walk(n):
    if isinstance(n, dict):
        for k, v in n.get("properties", {}).items():
            words.add(k)
        for v in n.get("enum", []):
            if isinstance(v, str):
                words.add(v)
        for v in n.values():
            walk(v)
    elif isinstance(n, list):
        for v in n:
            walk(v)
d = sys.argv[1]
for fn in os.listdir(d):
    if fn.endswith(".json"):
        walk(json.load(open(os.path.join(d, fn))))
for i, w in enumerate(sorted(words)):
    print('w%d="\\"%s\\""' % (i, w))
for i, t in enumerate(["18446744073709551615", "18446744073709551616", "-9223372036854775808",
                       "-9223372036854775809", "4294967296", "-0", "1e3", "0.5", "null", "true"]):
    print('n%d="%s"' % (i, t))
extra = ["/proc", "/proc/", "/proc/sys", "/proc/self/attr", "//", "/./", "/../", "..", "bind",
         "rbind", "proc", "tmpfs", "CAP_SYS_ADMIN", "CAP_", "RLIMIT_NOFILE", "SIGRT", "RTMIN+",
         "RTMAX-", "net.", "kernel.shm", "fs.mqueue.", ".slice", ":", "\\x1f", "\\x0a"]
for i, t in enumerate(extra):
    print('x%d="%s"' % (i, t))
PY

# ---- run ----

corpus_of() {
  echo "$here/corpus/$1"
  case $1 in
  fuzz-config | fuzz-validate) echo "$work/seed-json" ;;
  esac
}

# One target per CPU at a time (FUZZ_PARALLEL): each still gets its full
# time; results are printed in order once a batch is done.
fuzz_one() {
  t=$1
  mkdir -p "$work/$t.out" "$work/$t.corpus"
  rc=0
  # shellcheck disable=SC2046
  (cd "$work/$t.out" && "$work/$t" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -max_total_time="$seconds" -max_len=16384 -timeout=20 -rss_limit_mb=2048 \
    -dict="$work/dict" -artifact_prefix="$work/$t.out/" -print_final_stats=1 \
    "$work/$t.corpus" $(corpus_of "$t")) >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}
report() {
  t=$1
  rc=$(cat "$work/$t.rc")
  found=$(ls "$work/$t.out" | grep -E '^(crash|leak|timeout|oom)-' || true)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    status=1
    failed="$failed $t"
    echo "not ok - fuzz: $t (${seconds}s, status $rc)"
    echo "fuzz: $t FAILED (status $rc); findings:" >&2
    for f in $found; do
      echo "  $work/$t.out/$f" >&2
    done
    # What each finding is, counted: every input is run once more alone.
    for f in $found; do
      timeout 30 "$work/$t" "$work/$t.out/$f" 2>&1 |
        grep -aE -m 1 '^fuzz-[a-z]+: |runtime error: |ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' |
        sed -E 's/^(fuzz-[a-z]+: [^:]*).*/\1/; s/^.*(runtime error: [^:]*).*/\1/; s/^.*ERROR: ([A-Za-z]+: [a-z-]+).*/\1/' ||
        echo "(no report: a timeout or an out-of-memory?)"
    done | sort | uniq -c | sort -rn | sed 's/^/  /' >&2
  else
    echo "ok - fuzz: $t: no crash in ${seconds}s ($(grep -ao '^#[0-9]*' "$work/$t.log" | tail -n 1 | tr -d '#') runs)"
  fi
}

status=0
failed=
parallel=${FUZZ_PARALLEL:-$ncpu}
batch=
for t in $targets; do
  echo "fuzz: $t for ${seconds}s" >&2
  fuzz_one "$t" &
  batch="$batch $t"
  if [ "$(echo $batch | wc -w)" -ge "$parallel" ]; then
    wait
    for b in $batch; do report "$b"; done
    batch=
  fi
done
wait
for b in $batch; do report "$b"; done
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED:$failed; inputs, logs and binaries kept in $work" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz: no crash in any target (${seconds}s each)" >&2
