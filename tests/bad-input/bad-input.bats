#!/usr/bin/env bats
# Hostile and malformed input, as data: every case must be refused with exit
# status 1 and exactly one line on stderr (containing the expected text),
# within a time and memory bound, leaving no state, no cgroup and no file
# behind, and without harming an existing container.
#
#   configs/NAME.jq   a jq filter applied to a valid config ("kist spec", with
#                     root.path absolute). Header lines:
#                       # expect: TEXT    what stderr must contain
#                       # ...             why the case matters
#                     jq variables: $tmp (the test's temp dir, holding "file",
#                     an empty regular file), $rootfs, $ping (the host's
#                     net.ipv4.ping_group_range, for cases that must not change it).
#                     Run as `kist create --bundle DIR bad-NAME`; with a
#                     "# command: run" line as `kist run` (for what only
#                     fails once the process is started).
#   cli/TOPIC.tsv     NAME<TAB>EXPECTED TEXT<TAB>ARG<TAB>ARG... : one kist command
#                     line per case ("[N] TEXT": exit status N instead of 1). Each ARG is printf %b-expanded (\n, \t,
#                     \xNN), then: @ROOT@ the state root, @BUNDLE@ a valid
#                     bundle, @TTYBUNDLE@ one with process.terminal, @TMP@ the
#                     test's temp dir (file, emptydir, configdir, fifobundle,
#                     zerobundle, danglingbundle, canary/), @EMPTY@ an empty
#                     argument, @LONG:N@ N times "a", @ID@ the case's own
#                     container id (bad-NAME). Containers @VICTIM@ (created,
#                     waiting) and @RUNNER@ (running) exist while cli cases run;
#                     both must survive every case. (Their ids are unique to
#                     the run: the default cgroup path /kist-<id> is shared by
#                     every state root on the machine.)
#
# One test per topic; a failing test lists every case that misbehaved.

load ../helpers

DATA=$REPO/tests/bad-input
CASE_TIMEOUT=${KIST_BAD_INPUT_TIMEOUT:-30}
# Virtual memory bound for each kist (KiB): a case that makes kist read
# without end must fail here, not take the machine's memory.
CASE_VMEM=${KIST_BAD_INPUT_VMEM:-2097152}
VICTIM=bad-input-victim-$$
RUNNER=bad-input-runner-$$

setup() {
  [ -x "$KIST" ] || fail "no kist binary at $KIST"
  T=$BATS_TEST_TMPDIR
  setup_bundle true
  set_config '.root.path = $r' --arg r "$BUNDLE/rootfs"
  : >"$T/file"
  mkdir -p "$T/emptydir" "$T/configdir/config.json" "$T/fifobundle" "$T/zerobundle" \
    "$T/danglingbundle" "$T/ttybundle" "$T/cases" "$T/out" "$T/canary"
  mkfifo "$T/fifobundle/config.json"
  ln -s /dev/zero "$T/zerobundle/config.json"
  ln -s "$T/nowhere.json" "$T/danglingbundle/config.json"
  jq '.process.terminal = true' "$BUNDLE/config.json" >"$T/ttybundle/config.json"
  mkdir -p "$KIST_ROOT"
  # What a state directory looks like, next to the root: bait for "../".
  cp "$BUNDLE/config.json" "$T/canary/config.json"
  echo '{"id":"canary","status":"stopped","pid":1}' >"$T/canary/state.json"
}

teardown() {
  common_teardown
}

# snapshot: every file under the test's dir except the state root, the
# rootfs (kist makes mount points there) and the case outputs; the mtime of
# regular files only (a temp file made and removed again is fine).
snapshot() {
  find "$T" \( -path "$KIST_ROOT" -o -path "$BUNDLE/rootfs" -o -path "$T/out" \) -prune \
    -o -type f -printf '%p %y %i %m %s %T@\n' -o -printf '%p %y %i %m\n' | sort
}

# cgroups_of ID: cgroup dirs kist would have made for ID.
cgroups_of() {
  ls -d /sys/fs/cgroup/*/kist-"$1" /sys/fs/cgroup/kist-"$1" 2>/dev/null || true
}

# run_case NAME EXPECT ARG...: runs kist ARG... and prints one line per
# problem.
run_case() {
  local name=$1 expect=$2 rc=0 n err=$T/out/$1.err id want=1
  shift 2
  # "[N] TEXT": the command's own exit status for failures is N (exec: 255).
  if [[ "$expect" =~ ^\[([0-9]+)\]\ (.*)$ ]]; then
    want=${BASH_REMATCH[1]}
    expect=${BASH_REMATCH[2]}
  fi
  snapshot >"$T/out/$name.before"
  (
    ulimit -v "$CASE_VMEM"
    exec timeout --kill-after=5 "$CASE_TIMEOUT" "$KIST" "$@"
  ) </dev/null >"$T/out/$name.out" 2>"$err" || rc=$?
  n=$(wc -l <"$err")
  [ -s "$err" ] && [ -n "$(tail -c 1 "$err")" ] && n=$((n + 1))
  if [ "$rc" -ne "$want" ]; then
    case $rc in
    124 | 137) echo "$name: hung (killed after ${CASE_TIMEOUT}s)" ;;
    0) echo "$name: accepted (exit 0)" ;;
    *) echo "$name: exit status $rc, expected $want" ;;
    esac
  fi
  [ "$n" -eq 1 ] || echo "$name: $n lines on stderr, expected 1: $(head -c 300 "$err" | tr '\n' '|')"
  grep -qF -- "$expect" "$err" || echo "$name: stderr lacks '$expect': $(head -c 300 "$err" | tr '\n' '|')"
  # Nothing left: state (a refused create deletes what it made), cgroups.
  local left
  left=$(ls -A "$KIST_ROOT" 2>/dev/null | grep -vxF -e "$VICTIM" -e "$RUNNER" || true)
  if [ -n "$left" ]; then
    echo "$name: left in the state root: $(echo $left)"
    for id in $left; do "$KIST" --root "$KIST_ROOT" delete --force "$id" >/dev/null 2>&1 || true; done
    rm -rf "${KIST_ROOT:?}/.new-"* 2>/dev/null || true
  fi
  [ -z "$(cgroups_of "bad-$name")" ] || echo "$name: cgroup left: $(cgroups_of "bad-$name" | tr '\n' ' ')"
  snapshot | diff "$T/out/$name.before" - >"$T/out/$name.diff" ||
    echo "$name: files changed: $(tr '\n' '|' <"$T/out/$name.diff")"
}

# config_cases PREFIX...: every configs/PREFIX*.jq through `kist create`.
config_cases() {
  local f name expect problems= count=0 ping cmd
  ping=$(cat /proc/sys/net/ipv4/ping_group_range)
  for f in $(printf "$DATA/configs/%s*.jq\n" "$@"); do
    [ -f "$f" ] || continue
    name=$(basename "$f" .jq)
    expect=$(sed -n 's/^# expect: //p' "$f" | head -n 1)
    [ -n "$expect" ] || fail "$f: no '# expect:' line"
    cmd=$(sed -n 's/^# command: //p' "$f" | head -n 1)
    mkdir -p "$T/cases/$name"
    jq --arg tmp "$T" --arg rootfs "$BUNDLE/rootfs" --arg ping "$ping" -f "$f" \
      "$BUNDLE/config.json" >"$T/cases/$name/config.json" || fail "$f: jq failed"
    problems+=$(run_case "$name" "$expect" --root "$KIST_ROOT" "${cmd:-create}" --bundle "$T/cases/$name" "bad-$name")
    problems+=$'\n'
    count=$((count + 1))
  done
  [ "$count" -gt 0 ] || fail "no configs/$1*.jq cases"
  problems=$(grep . <<<"$problems" || true)
  [ -z "$problems" ] || fail "$(grep -c . <<<"$problems") problem(s) in $count $* cases:
$problems"
}

# expand ARG: one tsv argument with escapes and placeholders expanded.
expand() {
  local a
  a=$(printf '%bx' "$1")
  a=${a%x}
  a=${a//@ROOT@/$KIST_ROOT}
  a=${a//@BUNDLE@/$BUNDLE}
  a=${a//@TTYBUNDLE@/$T/ttybundle}
  a=${a//@TMP@/$T}
  a=${a//@ID@/bad-$2}
  a=${a//@VICTIM@/$VICTIM}
  a=${a//@RUNNER@/$RUNNER}
  [ "$a" = @EMPTY@ ] && a=
  while [[ "$a" =~ @LONG:([0-9]+)@ ]]; do
    a=${a/"${BASH_REMATCH[0]}"/$(printf 'a%.0s' $(seq 1 "${BASH_REMATCH[1]}"))}
  done
  printf '%s' "$a"
}

# survivors: the containers cli cases must not harm, (re)made as needed.
survivors() {
  if [ "$(kist state "$VICTIM" 2>/dev/null | jq -r .status)" != created ]; then
    kist delete --force "$VICTIM" >/dev/null 2>&1 || true
    kist create --bundle "$BUNDLE" "$VICTIM" </dev/null >/dev/null 2>&1
  fi
  if [ "$(kist state "$RUNNER" 2>/dev/null | jq -r .status)" != running ]; then
    kist delete --force "$RUNNER" >/dev/null 2>&1 || true
    mkdir -p "$T/runbundle"
    jq '.process.args = ["sleep", "600"]' "$BUNDLE/config.json" >"$T/runbundle/config.json"
    kist run --detach --bundle "$T/runbundle" "$RUNNER" </dev/null >/dev/null 2>&1
  fi
}

# cli_cases TOPIC: every line of cli/TOPIC.tsv.
cli_cases() {
  local line name expect field problems= count=0 fields args
  survivors
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    IFS=$'\t' read -r -a fields <<<"$line"
    name=${fields[0]}
    expect=${fields[1]}
    args=()
    for field in "${fields[@]:2}"; do
      args+=("$(expand "$field" "$name")")
    done
    problems+=$(run_case "$name" "$expect" "${args[@]}")
    problems+=$'\n'
    # The containers survived, untouched.
    [ "$(kist state "$VICTIM" 2>/dev/null | jq -r .status)" = created ] ||
      problems+="$name: the container $VICTIM did not survive"$'\n'
    [ "$(kist state "$RUNNER" 2>/dev/null | jq -r .status)" = running ] ||
      problems+="$name: the container $RUNNER did not survive"$'\n'
    survivors
    [ -e "$T/canary/state.json" ] || problems+="$name: removed the canary next to the state root"$'\n'
    count=$((count + 1))
  done <"$DATA/cli/$1.tsv"
  [ "$count" -gt 0 ] || fail "no cases in cli/$1.tsv"
  problems=$(grep . <<<"$problems" || true)
  [ -z "$problems" ] || fail "$(grep -c . <<<"$problems") problem(s) in $count $1 cases:
$problems"
}

@test "bad-input: there are at least 50 cases" {
  local configs cli
  configs=$(ls "$DATA"/configs/*.jq | wc -l)
  cli=$(cat "$DATA"/cli/*.tsv | grep -cv '^\(#\|$\)')
  [ $((configs + cli)) -ge 50 ] || fail "only $configs config and $cli cli cases"
}

@test "bad-input: configs: mounts" { config_cases mounts-; }
@test "bad-input: configs: mounts over /proc" { config_cases proc-; }
@test "bad-input: configs: sysctl" { config_cases sysctl-; }
@test "bad-input: configs: process" { config_cases process-; }
@test "bad-input: configs: capabilities" { config_cases caps-; }
@test "bad-input: configs: cgroups" { config_cases cgroups-; }
@test "bad-input: configs: devices" { config_cases devices-; }
@test "bad-input: configs: namespaces" { config_cases ns-; }
@test "bad-input: configs: root.path, maskedPaths, readonlyPaths" { config_cases root- masked- readonly-; }
@test "bad-input: configs: hooks" { config_cases hooks-; }
@test "bad-input: cli: container ids" { cli_cases ids; }
@test "bad-input: cli: signals" { cli_cases signals; }
@test "bad-input: cli: state root, bundle, pid file, console socket, options" { cli_cases options; }
@test "bad-input: cli: exec" { cli_cases exec; }
