#!/bin/sh
# Fuzz libocispec's config/state/features parser and generator with libFuzzer.
#
#   tests/fuzz/run.sh            # 60 s
#   FUZZ_SECONDS=600 tests/fuzz/run.sh
#
# Generates ocispec.[ch] fresh from the schemas into a temporary directory,
# builds tests/fuzz/fuzz-config.c with clang -fsanitize=fuzzer,address,undefined,
# and runs it seeded with every good fixture plus a dictionary of the schemas'
# property names and enum values.  On a crash the work directory (with the
# crashing input, crash-*) is kept and its path printed; exit status non-zero.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
cc=${CLANG:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/kist-fuzz.XXXXXX")

python3 "$top/libocispec/gen.py" --schema-dir "$top/libocispec/schema" --out-dir "$work/gen"

# shellcheck disable=SC2046
"$cc" -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$work/gen" -I"$top/libocispec" \
  "$here/fuzz-config.c" "$work/gen/ocispec.c" "$top/libocispec/json.c" \
  $(pkg-config --cflags --libs yajl) -o "$work/fuzz-config"

mkdir -p "$work/corpus"
for f in "$top"/tests/fixtures/config-good/*.json "$top"/libocispec/schema/test/*/good/*.json \
  "$top"/tests/fixtures/config-bad/*.json; do
  [ -f "$f" ] && cp "$f" "$work/corpus/$(echo "$f" | sed "s|^$top/||; s|/|_|g")"
done

# Dictionary: "key" tokens for every property name and enum value.
python3 - "$top/libocispec/schema" > "$work/dict" <<'PY'
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
PY

echo "fuzz: ${seconds}s in $work" >&2
status=0
(cd "$work" && ./fuzz-config -max_total_time="$seconds" -max_len=16384 -dict=dict \
  -artifact_prefix="$work/" -print_final_stats=1 corpus) || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (status $status); inputs and binary kept in $work" >&2
  ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null >&2 || true
  exit "$status"
fi
rm -rf "$work"
echo "fuzz: no crash in ${seconds}s" >&2
