#!/usr/bin/env bats
# linux.seccomp: actions, errno values, argument filters, config errors, the
# compiled-filter cache and the notify agent (listenerPath).

load helpers

FIXTURE=${KIST_PODMAN_CONFIG:-$REPO/tests/fixtures/podman-like-config.json}
AGENT=${KIST_SECCOMP_AGENT:-$(dirname "$KIST")/contrib/seccomp-agent/kist-seccomp-agent}

setup() {
  setup_bundle
  AGENT_PID=
}

teardown() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  common_teardown
}

# set_seccomp JSON: linux.seccomp = JSON.
set_seccomp() {
  set_config ".linux.seccomp = $1"
}

# A filter that fails mkdir (busybox uses mkdir or mkdirat) with ACTION_JSON
# merged into the rule, e.g. '{"action":"SCMP_ACT_ERRNO","errnoRet":28}'.
deny_mkdir() {
  set_seccomp "{\"defaultAction\":\"SCMP_ACT_ALLOW\",
    \"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"]} + $1]}"
}

# The podman-like profile: a copy of Podman's real config in tests/fixtures.
need_fixture() {
  [ -f "$FIXTURE" ] || fail "no podman-like profile at $FIXTURE"
}

cache_files() {
  find "$KIST_ROOT/.seccomp-cache" -name '*.bpf' 2>/dev/null | sort
}

# The syscall probe (tests/seccomp/probe.c), built static once per bats run.
SPROBE=${BATS_RUN_TMPDIR:-/tmp}/kist-seccomp-probe
sprobe_build() {
  [ -x "$SPROBE" ] && return 0
  (
    flock 9
    [ -x "$SPROBE" ] ||
      { gcc -static -O2 -std=gnu11 -Wall -Wextra -o "$SPROBE.tmp" "$REPO/tests/seccomp/probe.c" &&
        mv "$SPROBE.tmp" "$SPROBE"; }
  ) 9>"$SPROBE.lock" || fail "cannot build tests/seccomp/probe.c (gcc, libc6-dev with libc.a)"
}

# sprobe_setup ARGS...: the probe as /bin/seccomp-probe, process.args = ARGS.
sprobe_setup() {
  sprobe_build
  cp "$SPROBE" "$BUNDLE/rootfs/bin/seccomp-probe"
  chmod 755 "$BUNDLE/rootfs/bin/seccomp-probe"
  set_config '.process.args = $a' --argjson a "$(printf '%s\n' "$@" | jq -R . | jq -cs .)"
}

# probe_table ID OUT [KIST-OPTION...]: `kist run` of the probe table as ID,
# its output in OUT.
probe_table() {
  local id=$1 out=$2
  shift 2
  sprobe_setup /bin/seccomp-probe table
  "$KIST" --root "$KIST_ROOT" "$@" run --bundle "$BUNDLE" "$id" >"$out" 2>"$out.err" </dev/null ||
    fail "run $id: $(cat "$out.err")"
  [ "$(wc -l <"$out")" -gt 40 ] || fail "short probe table from $id: $(cat "$out")"
}

@test "seccomp: ERRNO with errnoRet is what mkdir sees" {
  deny_mkdir '{"action":"SCMP_ACT_ERRNO","errnoRet":28}'
  set_config '.process.args = ["mkdir", "/made"]'
  run kist run --bundle "$BUNDLE" test-errno
  assert_failure 1
  assert_output --partial "No space left on device"
  [ ! -e "$BUNDLE/rootfs/made" ]
}

@test "seccomp: ERRNO without errnoRet is EPERM" {
  deny_mkdir '{"action":"SCMP_ACT_ERRNO"}'
  set_config '.process.args = ["mkdir", "/made"]'
  run kist run --bundle "$BUNDLE" test-eperm
  assert_failure 1
  assert_output --partial "Operation not permitted"
}

@test "seccomp: defaultErrnoRet is what an unlisted syscall gets" {
  need_fixture
  # The podman-like profile with mkdir taken off its allow list: mkdir then
  # meets defaultAction ERRNO with defaultErrnoRet 38 (ENOSYS).
  set_seccomp "$(jq -c '.linux.seccomp | .syscalls |= map(.names -= ["mkdir", "mkdirat"])' "$FIXTURE")"
  set_config '.process.args = ["mkdir", "/made"]'
  run kist run --bundle "$BUNDLE" test-deferrno
  assert_failure 1
  assert_output --partial "Function not implemented"
}

@test "seccomp: KILL_PROCESS exits with 128+SIGSYS" {
  deny_mkdir '{"action":"SCMP_ACT_KILL_PROCESS"}'
  set_config '.process.args = ["mkdir", "/made"]'
  run kist run --bundle "$BUNDLE" test-kill
  assert_failure 159
  [ ! -e "$BUNDLE/rootfs/made" ]
}

@test "seccomp: args filter: personality(8) denied, personality(0) allowed" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
     "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}'
  set_config '.process.args = ["sh", "-c", "linux64 true && echo linux64-ok; linux32 true || echo linux32-denied"]'
  run kist run --bundle "$BUNDLE" test-args
  assert_success
  assert_line "linux64-ok"
  assert_line --partial "personality(0x8): Operation not permitted"
  assert_line "linux32-denied"
}

@test "seccomp: every operator compares like the kernel" {
  # personality(0) from linux64, personality(8) from linux32: each line is
  # OP VALUE VALUE_TWO, then whether linux64 and linux32 are denied.
  local cases='SCMP_CMP_NE 8 0 yes no
SCMP_CMP_LT 8 0 yes no
SCMP_CMP_LE 8 0 yes yes
SCMP_CMP_EQ 0 0 yes no
SCMP_CMP_GE 8 0 no yes
SCMP_CMP_GT 0 0 no yes
SCMP_CMP_MASKED_EQ 8 8 no yes'
  local op v v2 want64 want32 i=0
  while read -r op v v2 want64 want32; do
    i=$((i + 1))
    set_seccomp "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[
      {\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,
       \"args\":[{\"index\":0,\"value\":$v,\"valueTwo\":$v2,\"op\":\"$op\"}]}]}"
    set_config '.process.args = ["sh", "-c", "linux64 true 2>/dev/null && echo 64=no || echo 64=yes; linux32 true 2>/dev/null && echo 32=no || echo 32=yes"]'
    run kist run --bundle "$BUNDLE" "test-op-$i"
    assert_success
    assert_line "64=$want64"
    assert_line "32=$want32"
  done <<<"$cases"
}

@test "seccomp: two conditions on one argument are OR-ed (a rule each)" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
     "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}'
  set_config '.process.args = ["sh", "-c", "linux64 true || echo 64-denied; linux32 true || echo 32-denied"]'
  run kist run --bundle "$BUNDLE" test-or
  assert_success
  assert_line "64-denied"
  assert_line "32-denied"
}

@test "seccomp: unknown syscall names are skipped" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["kist_no_such_syscall","mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":28}]}'
  set_config '.process.args = ["mkdir", "/made"]'
  run kist --debug run --bundle "$BUNDLE" test-unknown-name
  assert_failure 1
  assert_output --partial "unknown syscall kist_no_such_syscall skipped"
  assert_output --partial "No space left on device"
}

@test "seccomp: unknown action names its index and leaves nothing behind" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["getpid"],"action":"SCMP_ACT_ERRNO"},
    {"names":["getppid"],"action":"SCMP_ACT_ERRNO"},
    {"names":["getuid"],"action":"SCMP_ACT_ERRNO"},
    {"names":["mkdir"],"action":"SCMP_ACT_FOO"}]}'
  run kist run --bundle "$BUNDLE" test-bad-action
  assert_failure
  # The config parser checks the enum before seccomp.c sees it; either way
  # the one line names the field and the value.
  assert_output --regexp 'linux\.seccomp\.syscalls\[3\]\.action: .*SCMP_ACT_FOO'
  assert_root_empty
  run kist list -q
  assert_output ""
}

@test "seccomp: config errors name the field" {
  local bad field value
  while IFS='|' read -r bad field value; do
    set_seccomp "$bad"
    run kist run --bundle "$BUNDLE" test-bad
    assert_failure
    assert_output --partial "$field"
    assert_output --partial "$value"
    assert_root_empty
  done <<'EOF'
{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_NOPE"]}|linux.seccomp.architectures[1]|SCMP_ARCH_NOPE
{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NOPE"]}|linux.seccomp.flags[0]|SECCOMP_FILTER_FLAG_NOPE
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_NOPE"}]}]}|linux.seccomp.syscalls[0].args[0].op|SCMP_CMP_NOPE
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}|linux.seccomp.syscalls[0].args[0].index|6 out of range
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}|linux.seccomp.syscalls[0].errnoRet|not allowed with SCMP_ACT_ALLOW
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":5000}]}|linux.seccomp.syscalls[0].errnoRet|5000 out of range
{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1}|linux.seccomp.defaultErrnoRet|not allowed with SCMP_ACT_ALLOW
{"defaultAction":"SCMP_ACT_NOPE"}|linux.seccomp.defaultAction|SCMP_ACT_NOPE
{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/tmp/x.sock"}|linux.seccomp.defaultAction|SCMP_ACT_NOTIFY cannot be the default
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}|linux.seccomp.listenerPath|required with SCMP_ACT_NOTIFY
{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/tmp/x.sock","syscalls":[{"names":["sendmsg"],"action":"SCMP_ACT_NOTIFY"}]}|linux.seccomp.syscalls[0]|SCMP_ACT_NOTIFY on sendmsg would deadlock
{"defaultAction":"SCMP_ACT_ALLOW","listenerMetadata":"m"}|linux.seccomp.listenerMetadata|set without listenerPath
EOF
}

@test "seccomp: flags LOG and SPEC_ALLOW load" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW",
    "flags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":28}]}'
  set_config '.process.args = ["mkdir", "/made"]'
  run kist run --bundle "$BUNDLE" test-flags
  assert_failure 1
  assert_output --partial "No space left on device"
}

@test "seccomp: the podman-like profile runs /bin/true" {
  need_fixture
  set_seccomp "$(jq -c .linux.seccomp "$FIXTURE")"
  run kist run --bundle "$BUNDLE" test-podman
  assert_success
  set_config '.process.args = ["grep", "-E", "^(Seccomp|Seccomp_filters|NoNewPrivs):", "/proc/self/status"]'
  run kist run --bundle "$BUNDLE" test-podman2
  assert_success
  assert_line --regexp '^Seccomp:[[:space:]]+2$'
  assert_line --regexp '^Seccomp_filters:[[:space:]]+1$'
}

@test "seccomp: loads without noNewPrivileges and without CAP_SYS_ADMIN (Podman's default)" {
  need_fixture
  # Podman leaves noNewPrivileges unset; the kernel then wants CAP_SYS_ADMIN
  # at load time, which the container's own capabilities lack.
  set_seccomp "$(jq -c .linux.seccomp "$FIXTURE")"
  set_config '.process.noNewPrivileges = false |
    .process.capabilities = {"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]} |
    .process.args = ["grep", "-E", "^(Seccomp|NoNewPrivs|CapEff):", "/proc/self/status"]'
  run kist run --bundle "$BUNDLE" test-nnp
  assert_success
  assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
  assert_line --regexp '^Seccomp:[[:space:]]+2$'
  assert_line --regexp '^CapEff:[[:space:]]+0000000000000020$'
}

@test "seccomp: a cache hit behaves like a compile, a corrupt entry is rewritten" {
  deny_mkdir '{"action":"SCMP_ACT_ERRNO","errnoRet":28}'
  set_config '.process.args = ["mkdir", "/made"]'
  run kist --debug run --bundle "$BUNDLE" test-cache1
  assert_failure 1
  assert_output --partial "seccomp: compiled"
  assert_output --partial "No space left on device"
  local f
  f=$(cache_files)
  [ "$(echo "$f" | wc -l)" -eq 1 ]
  [ "$(stat -c %a "$f")" = 600 ]
  local size
  size=$(stat -c %s "$f")

  run kist --debug run --bundle "$BUNDLE" test-cache2
  assert_failure 1
  assert_output --partial "seccomp: cache hit"
  assert_output --partial "No space left on device"

  # A short file and a flipped byte are both ignored, then rewritten.
  truncate -s 40 "$f"
  run kist --debug run --bundle "$BUNDLE" test-cache3
  assert_failure 1
  assert_output --partial "seccomp: compiled"
  assert_output --partial "No space left on device"
  [ "$(stat -c %s "$f")" -eq "$size" ]
  printf '\xff' | dd of="$f" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
  run kist --debug run --bundle "$BUNDLE" test-cache4
  assert_failure 1
  assert_output --partial "seccomp: compiled"
  assert_output --partial "No space left on device"

  # A different filter is a different entry.
  deny_mkdir '{"action":"SCMP_ACT_ERRNO","errnoRet":27}'
  run kist --debug run --bundle "$BUNDLE" test-cache5
  assert_failure 1
  assert_output --partial "seccomp: compiled"
  assert_output --partial "File too large"
  [ "$(cache_files | wc -l)" -eq 2 ]
}

@test "seccomp: the podman-like profile from the cache" {
  need_fixture
  set_seccomp "$(jq -c .linux.seccomp "$FIXTURE")"
  run kist --debug run --bundle "$BUNDLE" test-podman-c1
  assert_success
  assert_output --partial "seccomp: compiled"
  run kist --debug run --bundle "$BUNDLE" test-podman-c2
  assert_success
  assert_output --partial "seccomp: cache hit"
}

@test "seccomp: NOTIFY hands the listener to the agent, which fakes mkdir" {
  [ -x "$AGENT" ] || skip "no seccomp agent at $AGENT (make -C build builds it)"
  local sock=$BATS_TEST_TMPDIR/agent.sock log=$BATS_TEST_TMPDIR/agent.log
  "$AGENT" --once --log "$log" "$sock" &
  AGENT_PID=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ]

  set_seccomp "{\"defaultAction\":\"SCMP_ACT_ALLOW\",
    \"listenerPath\":\"$sock\",\"listenerMetadata\":\"kist-test-metadata\",
    \"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],
    \"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
  set_config '.process.args = ["sh", "-c", "mkdir /faked && test ! -e /faked && echo mkdir-faked"]'
  run timeout 20 "$KIST" --root "$KIST_ROOT" run --bundle "$BUNDLE" test-notify
  assert_success
  assert_output "mkdir-faked"
  [ ! -e "$BUNDLE/rootfs/faked" ]

  # The agent got the process state and answered the call.
  run cat "$log"
  assert_line --regexp '^state \{"ociVersion":"[0-9.]+","fds":\["seccompFd"\],"pid":[0-9]+,"metadata":"kist-test-metadata","state":\{.*"id":"test-notify".*\}\}$'
  assert_line --regexp '^pid [0-9]+: mkdir(at)? faked$'
}

@test "seccomp: NOTIFY through create + start" {
  [ -x "$AGENT" ] || skip "no seccomp agent at $AGENT (make -C build builds it)"
  local sock=$BATS_TEST_TMPDIR/agent.sock log=$BATS_TEST_TMPDIR/agent.log
  "$AGENT" --once --log "$log" "$sock" &
  AGENT_PID=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ]

  set_seccomp "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$sock\",
    \"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
  set_config '.process.args = ["sh", "-c", "mkdir /faked; echo rc=$? >/result; test -e /faked && echo made >>/result"]'
  # The init keeps create's stdio: files, not bats' pipe.
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" test-notify-cs \
    </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>"$BATS_TEST_TMPDIR/create.err" ||
    fail "create: $(cat "$BATS_TEST_TMPDIR/create.err")"
  run timeout 20 "$KIST" --root "$KIST_ROOT" start test-notify-cs
  assert_success
  wait_for_status test-notify-cs stopped
  run cat "$BUNDLE/rootfs/result"
  assert_output "rc=0"
  run cat "$log"
  assert_line --regexp '"id":"test-notify-cs"'
  assert_line --regexp '^pid [0-9]+: mkdir(at)? faked$'
}

@test "seccomp: TRAP delivers SIGSYS (SYS_SECCOMP, the syscall number) to a handler" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_TRAP"}]}'
  sprobe_setup /bin/seccomp-probe trap
  run kist run --bundle "$BUNDLE" sc-trap
  assert_success
  # x86_64: mkdir is 83; si_code 1 is SYS_SECCOMP; the call was not made.
  assert_output "sigsys syscall=83 code=1 errno=0"
  [ ! -e "$BUNDLE/rootfs/trap-probe" ]
  # Without a handler SIGSYS ends the process (128 + 31).
  set_config '.process.args = ["mkdir", "/trap-probe"]'
  run kist run --bundle "$BUNDLE" sc-trap2
  assert_failure 159
  [ ! -e "$BUNDLE/rootfs/trap-probe" ]
}

@test "seccomp: LOG behaves as allow (the probe table is the unfiltered one)" {
  probe_table sc-log-base "$BATS_TEST_TMPDIR/base"
  set_seccomp '{"defaultAction":"SCMP_ACT_LOG","syscalls":[
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_LOG"}]}'
  probe_table sc-log "$BATS_TEST_TMPDIR/log"
  diff -u "$BATS_TEST_TMPDIR/base" "$BATS_TEST_TMPDIR/log"
  # ... with a filter in force all the same.
  sprobe_setup /bin/seccomp-probe status
  run kist run --bundle "$BUNDLE" sc-log2
  assert_line --regexp '^Seccomp:[[:space:]]+2$'
  set_config '.process.args = ["mkdir", "/logged"]'
  run kist run --bundle "$BUNDLE" sc-log3
  assert_success
  [ -d "$BUNDLE/rootfs/logged" ]
}

# What Podman's profile denies among the probe table's calls, and with which
# errno: ERRNO rules with errnoRet 1 (EPERM), the socket rule with 22
# (EINVAL), and calls on no list (or personality with an unlisted value),
# which meet defaultErrnoRet 38 (ENOSYS). Every other call must behave as
# without a filter. unshare, mount, keyctl, umount2, pivot_root and ptrace
# are on this profile's allow list: the kernel's own checks answer them.
PODMAN_DENIED='sethostname 1
setdomainname 1
bpf 1
perf_event_open 1
acct 1
swapon 1
kexec_load 1
init_module 1
delete_module 1
open_by_handle_at 1
userfaultfd 1
clock_settime 1
settimeofday 1
quotactl 1
fanotify_init 1
iopl 1
ioperm 1
kcmp 1
add_key 38
request_key 38
io_uring_setup 38
personality_1 38
socket_netlink_audit 22'

@test "seccomp: podman-like profile: denied calls get its errno, arg filters pick personality values, the rest is unfiltered" {
  need_fixture
  # The expectations above are what the fixture says.
  local name want sys rules
  while read -r name want; do
    sys=${name%_netlink_audit}
    sys=${sys%_1}
    rules=$(jq -c --arg n "$sys" '[.linux.seccomp.syscalls[] | select(.names | index($n))
      | {action, errnoRet}]' "$FIXTURE")
    case $want in
    38) [ "$sys" = personality ] ||
          [ "$rules" = "[]" ] || fail "$sys is listed in the fixture: $rules" ;;
    *) grep -q "\"errnoRet\":$want" <<<"$rules" || fail "$sys: no errnoRet $want in $rules" ;;
    esac
  done <<<"$PODMAN_DENIED"

  probe_table sc-pod-base "$BATS_TEST_TMPDIR/base"
  set_seccomp "$(jq -c .linux.seccomp "$FIXTURE")"
  probe_table sc-pod "$BATS_TEST_TMPDIR/podman"
  local got base
  while read -r name got; do
    want=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$PODMAN_DENIED")
    base=$(awk -v n="$name" '$1 == n { print $2 }' "$BATS_TEST_TMPDIR/base")
    [ "$got" = "${want:-$base}" ] ||
      fail "$name: errno $got under the profile, expected ${want:-$base} (unfiltered: $base)"
  done <"$BATS_TEST_TMPDIR/podman"
  # The arg filter: personality is allowed only with 0, 8, 0x20000, 0x20008
  # and 0xffffffff (a query).
  assert_equal "$(grep -c '^personality_\(query\|0\|8\|20008\) 0$' "$BATS_TEST_TMPDIR/podman")" 4
  grep -qx 'personality_1 38' "$BATS_TEST_TMPDIR/podman"
  # The kernel's own answers were not the profile's (else this proves little).
  ! grep -qx 'sethostname 1' "$BATS_TEST_TMPDIR/base"
  ! grep -qx 'add_key 38' "$BATS_TEST_TMPDIR/base"
  grep -qx 'socket_netlink_audit 0' "$BATS_TEST_TMPDIR/base"
}

# filter_dump ID OUT: the BPF the container's process runs under, as the
# kernel holds it (ptrace from the host); returns 3 when the kernel cannot.
filter_dump() {
  local pid
  pid=$(kist state "$1" | jq -r .pid)
  "$SPROBE" dump "$pid" >"$2"
}

@test "seccomp: a cold-cache and a warm-cache start load the same filter (BPF, status, probe table)" {
  need_fixture
  set_seccomp "$(jq -c .linux.seccomp "$FIXTURE")"
  sprobe_setup sh -c 'seccomp-probe status >/out; seccomp-probe table >>/out; touch /ready; exec sleep 100'
  local t
  for t in cold warm; do
    rm -f "$BUNDLE/rootfs/ready" "$BUNDLE/rootfs/out"
    kist --debug run -d --bundle "$BUNDLE" "sc-$t" >"$BATS_TEST_TMPDIR/$t.run" 2>&1 </dev/null ||
      fail "run sc-$t: $(cat "$BATS_TEST_TMPDIR/$t.run")"
    for _ in $(seq 100); do [ -e "$BUNDLE/rootfs/ready" ] && break; sleep 0.05; done
    cp "$BUNDLE/rootfs/out" "$BATS_TEST_TMPDIR/$t.out"
  done
  grep -q "seccomp: compiled" "$BATS_TEST_TMPDIR/cold.run"
  grep -q "seccomp: cache hit" "$BATS_TEST_TMPDIR/warm.run"
  # One filter in force, and every probed call answers the same.
  grep -qx $'Seccomp:\t2' "$BATS_TEST_TMPDIR/cold.out"
  grep -qx $'Seccomp_filters:\t1' "$BATS_TEST_TMPDIR/cold.out"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/cold.out")" -gt 40 ]
  diff -u "$BATS_TEST_TMPDIR/cold.out" "$BATS_TEST_TMPDIR/warm.out"
  # The loaded programs, instruction by instruction.
  local rc=0
  filter_dump sc-cold "$BATS_TEST_TMPDIR/cold.bpf" || rc=$?
  if [ "$rc" -eq 3 ]; then
    skip "this kernel does not hand out seccomp filters (PTRACE_SECCOMP_GET_FILTER)"
  fi
  [ "$rc" -eq 0 ]
  filter_dump sc-warm "$BATS_TEST_TMPDIR/warm.bpf"
  grep -q '^filter 0: [0-9]* insns$' "$BATS_TEST_TMPDIR/cold.bpf"
  ! grep -q '^filter 1:' "$BATS_TEST_TMPDIR/cold.bpf"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/cold.bpf")" -gt 100 ]
  cmp "$BATS_TEST_TMPDIR/cold.bpf" "$BATS_TEST_TMPDIR/warm.bpf"
}

@test "seccomp: concurrent cold starts share one sound cache entry" {
  need_fixture
  set_seccomp "$(jq -c .linux.seccomp "$FIXTURE")"
  sprobe_setup /bin/seccomp-probe table
  local i pids=() rc=0
  for i in $(seq 8); do
    "$KIST" --root "$KIST_ROOT" --debug run --bundle "$BUNDLE" "sc-par-$i" \
      >"$BATS_TEST_TMPDIR/par-$i.out" 2>"$BATS_TEST_TMPDIR/par-$i.err" </dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || rc=$?
  done
  [ "$rc" -eq 0 ]
  # Several compiled at once (a cold cache), every one got the same filter.
  [ "$(cat "$BATS_TEST_TMPDIR"/par-*.err | grep -c 'seccomp: compiled')" -ge 2 ]
  for i in $(seq 2 8); do
    cmp "$BATS_TEST_TMPDIR/par-1.out" "$BATS_TEST_TMPDIR/par-$i.out"
  done
  # One entry, no temp file left, and it is a valid hit with the same table.
  [ "$(cache_files | wc -l)" -eq 1 ]
  [ -z "$(find "$KIST_ROOT/.seccomp-cache" -name '*.tmp.*')" ]
  run --separate-stderr kist --debug run --bundle "$BUNDLE" sc-par-hit
  assert_success
  [[ "$stderr" == *"seccomp: cache hit"* ]]
  [ "$output" = "$(cat "$BATS_TEST_TMPDIR/par-1.out")" ]
}
