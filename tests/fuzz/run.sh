#!/bin/sh
# Fuzz kist's parsers with libFuzzer, every target for FUZZ_SECONDS (60) each:
#
#   fuzz-config    libocispec's config/state/features parser and generator
#   fuzz-validate  every check `kist create` makes on a parsed config
#   fuzz-state     the state store's reader (state.json), save/load round trip
#   fuzz-parsers   ids, signals, cpu lists, sysctl keys, cgroupsPath, mount
#                  destinations and options, capability names, integers
#
#   tests/fuzz/run.sh                         # all targets, 60 s each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh        # longer
#   FUZZ_TARGETS="fuzz-state" tests/fuzz/run.sh
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
seconds=${FUZZ_SECONDS:-60}
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
for s in $srcs; do
  o=$work/obj/$(basename "$s" .c).o
  # shellcheck disable=SC2086
  "$cc" $cflags $sanitize -fsanitize=fuzzer-no-link $incs -c "$top/$s" -o "$o" \
    2>"$work/build-$(basename "$s" .c).log" && continue
  # clang refuses some things gcc lets through (a goto past a cleanup
  # variable's initialisation is one): say so, and build that file with gcc,
  # uninstrumented, so the targets still link.
  echo "fuzz: warning: clang cannot compile $s (built with gcc, not instrumented):" >&2
  grep -m 3 'error:' "$work/build-$(basename "$s" .c).log" | sed 's/^/  /' >&2
  # shellcheck disable=SC2086
  ${GCC:-gcc} $cflags $incs -c "$top/$s" -o "$o"
done
# shellcheck disable=SC2086
"$cc" $cflags $sanitize -fsanitize=fuzzer-no-link $incs -c "$work/gen/ocispec.c" -o "$work/obj/ocispec.o"
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

mkdir -p "$work/seed-state"
printf '%s' '{"ociVersion":"1.3.0","id":"c1","status":"created","pid":4242,"starttime":123456,"bundle":"/b","rootfs":"/b/rootfs","created":"2026-01-01T00:00:00.000000000Z","owner":0,"flags":3,"annotations":{"a":"b","k\u00e9y":"v\n"}}' \
  >"$work/seed-state/created"
printf '%s' '{"status":"running","pid":-1,"starttime":18446744073709551615,"owner":4294967296}' \
  >"$work/seed-state/extremes"
printf '%s' '{"status":"stopped","annotations":{"x":1,"y":null,"z":["q"]}}' >"$work/seed-state/odd"

# Parser seeds: a selector byte (see fuzz-parsers.c) and a string.
mkdir -p "$work/seed-parsers"
n=0
seed() {
  n=$((n + 1))
  printf "$1" >"$work/seed-parsers/s$n"
}
seed '\000my-container_1.2'
seed '\000../etc'
seed '\001SIGTERM'
seed '\001RTMIN+3'
seed '\00115'
seed '\0020-3,7, 9 - 11'
seed '\003net.ipv4.ip_forward'
seed '\003kernel.shmmax'
seed '\004/kist/a/b'
seed '\004a//b/../c'
seed '\005system.slice:kist:abc'
seed '\005a-b-c.slice:p:n'
seed '\006/proc\037proc\037proc'
seed '\006/proc/meminfo\037bind\037/var/lib/lxcfs/proc/meminfo\037rbind'
seed '\006/mnt\037tmpfs\037tmpfs\037nosuid\037rro\037mode=755'
seed '\007CAP_SYS_ADMIN'
seed '\010-9223372036854775808'
seed '\01018446744073709551615'

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
  case $1 in
  fuzz-state) echo "$work/seed-state" ;;
  fuzz-parsers) echo "$work/seed-parsers" ;;
  *) echo "$work/seed-json" ;;
  esac
}

status=0
failed=
for t in $targets; do
  mkdir -p "$work/$t.out" "$work/$t.corpus"
  echo "fuzz: $t for ${seconds}s" >&2
  rc=0
  (cd "$work/$t.out" && "$work/$t" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -max_total_time="$seconds" -max_len=16384 -timeout=20 -rss_limit_mb=2048 \
    -dict="$work/dict" -artifact_prefix="$work/$t.out/" -print_final_stats=1 \
    "$work/$t.corpus" "$(corpus_of "$t")") >"$work/$t.log" 2>&1 || rc=$?
  found=$(ls "$work/$t.out" | grep -E '^(crash|leak|timeout|oom)-' || true)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    status=1
    failed="$failed $t"
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
    echo "fuzz: $t: no crash in ${seconds}s" >&2
  fi
done
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED:$failed; inputs, logs and binaries kept in $work" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz: no crash in any target (${seconds}s each)" >&2
