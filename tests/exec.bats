#!/usr/bin/env bats
# kist exec: namespaces, cgroup, seccomp, capabilities, user/cwd/env,
# --process, exit codes, states, parallel execs, fds, the helper's privacy.
# Terminals are in terminal.bats.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle sleep 3600
  ID=ke$BATS_TEST_NUMBER-$$
}

teardown() {
  # A held exec (the helper test) must not outlive the test.
  local f
  for f in "$BATS_TEST_TMPDIR"/*.pid; do
    [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
  done
  common_teardown
}

# start_container [ID]: create + start $BUNDLE. create's stdio goes to a file:
# the init keeps it, so a pipe (what `run` reads) would never close.
start_container() {
  local id=${1:-$ID}
  if ! kist create --bundle "$BUNDLE" "$id" >"$BATS_TEST_TMPDIR/create-$id.out" 2>&1 </dev/null; then
    cat "$BATS_TEST_TMPDIR/create-$id.out" >&2
    return 1
  fi
  kist start "$id"
  wait_for_status "$id" running
}

init_pid() {
  kist state "$ID" | jq -r .pid
}

# exec_detached PIDFILE ARGS...: kist exec -d with its stdio in files.
exec_detached() {
  local pf=$1
  shift
  kist exec -d --pid-file "$pf" "$ID" "$@" >"$BATS_TEST_TMPDIR/exec-d.out" 2>&1 </dev/null
}

@test "exec: joins the init's pid, mount, network, ipc, uts and cgroup namespaces" {
  start_container
  local pid ns want got
  pid=$(init_pid)
  for ns in pid mnt net ipc uts cgroup; do
    want=$(readlink "/proc/$pid/ns/$ns")
    run kist exec "$ID" readlink "/proc/self/ns/$ns"
    assert_success
    assert_output "$want"
    # ... and they are not the host's.
    [ "$want" != "$(readlink /proc/self/ns/$ns)" ]
  done
  # In the container's pid namespace: the init is pid 1 there.
  run kist exec "$ID" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  assert_success
  assert_output "sleep 3600 "
}

@test "exec: the process is in the container's cgroup (every hierarchy)" {
  start_container
  exec_detached "$BATS_TEST_TMPDIR/p.pid" sleep 100
  local p
  p=$(cat "$BATS_TEST_TMPDIR/p.pid")
  [ -n "$p" ]
  [ "$(cat /proc/$p/cgroup)" = "$(cat /proc/$(init_pid)/cgroup)" ]
  run kist ps --format json "$ID"
  assert_success
  [ "$(jq length <<<"$output")" -eq 2 ]
  jq -e --argjson p "$p" 'index($p) != null' <<<"$output"
  kill "$p"
}

@test "exec: the container's seccomp filter applies" {
  set_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
  start_container
  run kist exec "$ID" mkdir /tmp/blocked
  assert_failure
  assert_output --partial "Operation not permitted"
  run kist exec "$ID" sh -c 'grep "^Seccomp:" /proc/self/status'
  assert_output --regexp 'Seccomp:[[:space:]]+2'
  # Not a broken mkdir: the same call succeeds without the filter.
  mkdir "$BUNDLE/rootfs/tmp/allowed-dir-host"
  [ ! -e "$BUNDLE/rootfs/tmp/blocked" ]
}

@test "exec: --cap adds to bounding/effective/permitted, never inheritable" {
  start_container
  run kist exec --cap CAP_SYS_ADMIN --cap net_raw "$ID" grep ^Cap /proc/self/status
  assert_success
  assert_line --regexp '^CapInh:[[:space:]]+0000000000000000$'
  local bits prm eff bnd
  prm=$(awk '/^CapPrm/ {print $2}' <<<"$output")
  eff=$(awk '/^CapEff/ {print $2}' <<<"$output")
  bnd=$(awk '/^CapBnd/ {print $2}' <<<"$output")
  # CAP_SYS_ADMIN = 21, CAP_NET_RAW = 13.
  bits=$(((1 << 21) | (1 << 13)))
  for v in "$prm" "$eff" "$bnd"; do
    [ $((0x$v & bits)) -eq "$bits" ]
  done
  # Without --cap the config's set: no CAP_SYS_ADMIN.
  run kist exec "$ID" grep ^CapEff /proc/self/status
  eff=$(awk '{print $2}' <<<"$output")
  [ $((0x$eff & (1 << 21))) -eq 0 ]
}

@test "exec: --cap on a config with inheritable caps raises ambient only for those" {
  set_config '.process.capabilities.inheritable = ["CAP_NET_RAW"]'
  start_container
  run kist exec --cap CAP_NET_RAW --cap CAP_SYS_ADMIN "$ID" grep -E '^Cap(Inh|Amb)' /proc/self/status
  assert_success
  assert_line --regexp "^CapInh:[[:space:]]+$(printf '%016x' $((1 << 13)))$"
  assert_line --regexp "^CapAmb:[[:space:]]+$(printf '%016x' $((1 << 13)))$"
}

@test "exec: exit codes 0, 3, 127, 126, 137 and 255" {
  start_container
  run kist exec "$ID" true
  assert_success
  run kist exec "$ID" sh -c 'exit 3'
  [ "$status" -eq 3 ]
  run -127 --separate-stderr kist exec "$ID" no-such-command
  [[ "$stderr" == *"no-such-command"*"not found"* ]]
  run kist exec "$ID" /etc/passwd
  [ "$status" -eq 126 ]
  run kist exec "$ID" sh -c 'kill -KILL $$'
  [ "$status" -eq 137 ]
  run kist exec no-such-container-$$ true
  [ "$status" -eq 255 ]
  assert_output --partial "does not exist"
}

@test "exec: --user, --additional-gids, --cwd, --env, and the command's own options" {
  start_container
  run kist exec -u 1000:1001 -g 5 -g 7,8 --cwd /tmp -e FOO=bar -e PATH=/bin:/usr/bin \
    "$ID" sh -c 'id -u; id -g; id -G; pwd; echo "$FOO"; echo "$PATH"; echo "$TERM"'
  assert_success
  assert_line --index 0 1000
  assert_line --index 1 1001
  assert_line --index 2 "1001 5 7 8"
  assert_line --index 3 /tmp
  assert_line --index 4 bar
  # -e replaced PATH, kept the config's TERM.
  assert_line --index 5 /bin:/usr/bin
  assert_line --index 6 xterm
  # -u UID alone keeps the config's gid.
  run kist exec -u 42 "$ID" id -g
  assert_output 0
  # Options after the id belong to the command.
  run kist exec "$ID" ls -d -a /
  assert_success
  assert_output /
  run kist exec "$ID" -- echo -e 'a\tb'
  assert_success
  assert_output $'a\tb'
}

@test "exec: --process FILE overrides the config field by field; flags override it" {
  start_container
  cat >"$BATS_TEST_TMPDIR/proc.json" <<'JSON'
{
  "args": ["sh", "-c", "pwd; echo $A; id -u; grep ^NoNewPrivs /proc/self/status"],
  "cwd": "/etc",
  "env": ["A=from-file", "PATH=/bin:/usr/bin"],
  "user": {"uid": 7, "gid": 7},
  "noNewPrivileges": false
}
JSON
  run kist exec --process "$BATS_TEST_TMPDIR/proc.json" "$ID"
  assert_success
  assert_line --index 0 /etc
  assert_line --index 1 from-file
  assert_line --index 2 7
  assert_line --index 3 --regexp 'NoNewPrivs:[[:space:]]+0'
  # Absent fields come from the container's process (its capabilities).
  run kist exec --process "$BATS_TEST_TMPDIR/proc.json" "$ID" grep ^CapBnd /proc/self/status
  assert_output --regexp 'CapBnd:[[:space:]]+0000000020000420'
  # Flags win over the file.
  run kist exec --process "$BATS_TEST_TMPDIR/proc.json" --cwd /tmp -u 9 "$ID"
  assert_line --index 0 /tmp
  assert_line --index 2 9
}

@test "exec: --process errors name the file, line and field" {
  start_container
  printf '{\n  "cwd": "/",\n  "user": {"uid": "root"}\n}\n' >"$BATS_TEST_TMPDIR/bad.json"
  run --separate-stderr kist exec --process "$BATS_TEST_TMPDIR/bad.json" "$ID" true
  [ "$status" -eq 255 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"bad.json:3:"*"process.user.uid"* ]]
  printf '{"args": ["true"]}' >"$BATS_TEST_TMPDIR/nocwd.json"
  run --separate-stderr kist exec --process "$BATS_TEST_TMPDIR/nocwd.json" "$ID"
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"nocwd.json"*"cwd"* ]]
  # Text after the object cannot add fields to the wrapper.
  printf '{"args": ["true"], "cwd": "/"}, "linux": {}' >"$BATS_TEST_TMPDIR/inject.json"
  run --separate-stderr kist exec --process "$BATS_TEST_TMPDIR/inject.json" "$ID"
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"inject.json"* ]]
  run --separate-stderr kist exec --cwd relative "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"process.cwd"*"absolute"* ]]
  # A device is refused at once (not read forever); an empty file is no object.
  run --separate-stderr timeout 10 "$KIST" --root "$KIST_ROOT" exec --process /dev/zero "$ID"
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"/dev/zero"*"not a regular file"* ]]
  : >"$BATS_TEST_TMPDIR/empty.json"
  run --separate-stderr kist exec --process "$BATS_TEST_TMPDIR/empty.json" "$ID"
  [ "$status" -eq 255 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  # A pipe is fine: --process /dev/stdin.
  run bash -c 'echo "{\"args\": [\"echo\", \"piped\"], \"cwd\": \"/\"}" |
    "$KIST" --root "$2" exec --process /dev/stdin "$1"' _ "$ID" "$KIST_ROOT"
  assert_success
  assert_output piped
}

@test "exec: refuses a created container, a stopped one, and a paused one unless --ignore-paused" {
  kist create --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/create.out" 2>&1 </dev/null
  run --separate-stderr kist exec "$ID" sh -c 'echo ran >/tmp/created'
  [ "$status" -eq 255 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"$ID"*"created, not running"* ]]
  [ ! -e "$BUNDLE/rootfs/tmp/created" ]
  # Nothing of the attempt stayed: the init is alone and start still works.
  [ "$(kist state "$ID" | jq -r .status)" = created ]
  kist start "$ID"
  wait_for_status "$ID" running
  run kist ps --format json "$ID"
  [ "$(jq length <<<"$output")" -eq 1 ]
  kist pause "$ID"
  run --separate-stderr kist exec "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"paused"*"--ignore-paused"* ]]
  # --ignore-paused: the process starts frozen and runs on resume.
  kist exec --ignore-paused "$ID" sh -c 'echo ran >/tmp/ip' >"$BATS_TEST_TMPDIR/ip.out" 2>&1 &
  local ep=$!
  sleep 0.5
  [ ! -e "$BUNDLE/rootfs/tmp/ip" ]
  kist resume "$ID"
  wait "$ep"
  [ "$(cat "$BUNDLE/rootfs/tmp/ip")" = ran ]
  kist kill "$ID" KILL
  wait_for_status "$ID" stopped
  run --separate-stderr kist exec "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"stopped"* ]]
}

@test "exec: 50 parallel execs all succeed and leave no process or zombie" {
  start_container
  local i pids=() rc=0
  for i in $(seq 50); do
    kist exec "$ID" sh -c "echo \$\$ > /tmp/par-$i" >"$BATS_TEST_TMPDIR/par-$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || rc=$?
  done
  [ "$rc" -eq 0 ]
  [ "$(ls "$BUNDLE/rootfs/tmp" | grep -c '^par-')" -eq 50 ]
  # Only the init is left in the cgroup, and nothing is a zombie.
  run kist ps --format json "$ID"
  [ "$(jq length <<<"$output")" -eq 1 ]
  run kist exec "$ID" ps -o stat
  assert_success
  refute_output --regexp 'Z'
  run ps -o stat= --ppid $$
  refute_output --regexp 'Z'
}

# open_fds: after `run`, the fds of `ls -l /proc/self/fd` that name something
# (ls's own directory fd is gone by the time it reads the link).
open_fds() {
  awk '/ -> / { print $(NF - 2) }' <<<"$output" | sort -n | tr '\n' ' '
}

@test "exec: no fd leaks: 0,1,2 only, plus --preserve-fds" {
  start_container
  # bats itself has fds >= 3 open: none may arrive.
  run kist exec "$ID" ls -l /proc/self/fd
  assert_success
  [ "$(open_fds)" = "0 1 2 " ]
  run kist exec --preserve-fds 2 "$ID" ls -l /proc/self/fd 3</dev/null 4<<<"via-fd-4" 5</dev/null
  assert_success
  [ "$(open_fds)" = "0 1 2 3 4 " ]
  run kist exec --preserve-fds 2 "$ID" cat /proc/self/fd/4 3</dev/null 4<<<"via-fd-4"
  assert_output via-fd-4
  # Asking for fds that are not open is an error, not a leak of kist's own.
  run --separate-stderr kist exec --preserve-fds 40 "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"--preserve-fds"*"not open"* ]]
}

@test "exec: LISTEN_FDS: LISTEN_PID is the process's pid; kist's own socket activation passes on" {
  start_container
  run kist exec -e LISTEN_FDS=1 -e LISTEN_PID=999 --preserve-fds 1 "$ID" \
    sh -c 'echo "$LISTEN_PID $$ $LISTEN_FDS"' 3</dev/null
  assert_success
  local a b
  read -r a b _ <<<"$output"
  [ "$a" = "$b" ]
  assert_output --regexp ' 1$'
  # kist started with LISTEN_FDS for itself (LISTEN_PID = kist's pid).
  run bash -c 'export LISTEN_FDS=2 LISTEN_PID=$$; exec "$@"' _ "$KIST" --root "$KIST_ROOT" \
    exec "$ID" sh -c 'echo "$LISTEN_FDS $LISTEN_PID $$"; exec ls -l /proc/self/fd' \
    3</dev/null 4</dev/null
  assert_success
  read -r a b c <<<"${lines[0]}"
  [ "$a" = 2 ]
  [ "$b" = "$c" ]
  [ "$(open_fds)" = "0 1 2 3 4 " ]
}

@test "exec: -d returns at once and writes the pid file; the process runs on" {
  start_container
  local t0 t1
  t0=$(date +%s%N)
  exec_detached "$BATS_TEST_TMPDIR/d.pid" sleep 30
  t1=$(date +%s%N)
  [ $(((t1 - t0) / 1000000)) -lt 5000 ]
  local p
  p=$(cat "$BATS_TEST_TMPDIR/d.pid")
  [ "$(cat /proc/$p/comm)" = sleep ]
  kill "$p"
}

@test "exec: forwards signals to the process and returns its status" {
  start_container
  local sig want
  for sig in TERM INT HUP QUIT USR1 USR2 WINCH; do
    rm -f "$BUNDLE/rootfs/tmp/ready"
    "$KIST" --root "$KIST_ROOT" exec "$ID" sh -c "trap 'exit 42' $sig; touch /tmp/ready; while :; do sleep 0.05; done" \
      >"$BATS_TEST_TMPDIR/sig.out" 2>&1 &
    local ep=$!
    for _ in $(seq 100); do [ -e "$BUNDLE/rootfs/tmp/ready" ] && break; sleep 0.05; done
    kill -s "$sig" "$ep"
    want=0
    wait "$ep" || want=$?
    [ "$want" -eq 42 ] || { echo "SIG$sig: exit $want"; return 1; }
  done
}

@test "exec: --cgroup puts the process in a sub-cgroup of the container's" {
  start_container
  local pid rel dirs=() d
  pid=$(init_pid)
  # Every hierarchy the init is in (v1 controllers, named, the v2 tree).
  while IFS=: read -r _ ctrl rel; do
    if [ -z "$ctrl" ]; then d=/sys/fs/cgroup/unified$rel; [ -d /sys/fs/cgroup/unified ] || d=/sys/fs/cgroup$rel
    else d=/sys/fs/cgroup/${ctrl#name=}$rel; fi
    [ -d "$d" ] || continue
    mkdir "$d/sub"
    dirs+=("$d/sub")
    # A v1 cpuset takes no task before it has cpus and mems.
    if [ -e "$d/sub/cpuset.cpus" ]; then
      cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
      cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
    fi
  done < /proc/$pid/cgroup
  printf '%s\n' "${dirs[@]}" >"$BATS_TEST_TMPDIR/subdirs"
  kist exec -d --pid-file "$BATS_TEST_TMPDIR/s.pid" --cgroup sub "$ID" sleep 100 \
    >"$BATS_TEST_TMPDIR/exec-d.out" 2>&1 || {
    cat "$BATS_TEST_TMPDIR/exec-d.out"
    false
  }
  local p
  p=$(cat "$BATS_TEST_TMPDIR/s.pid")
  grep -q ':/.*/sub$' /proc/$p/cgroup
  run grep -vc ':/.*/sub$' /proc/$p/cgroup
  assert_output 0
  kill -9 "$p"
  # CTRL:PATH: only that v1 hierarchy moves (hybrid/v1 hosts).
  if grep -q '^[0-9]*:pids:' /proc/$pid/cgroup; then
    run kist exec --cgroup pids:sub "$ID" cat /proc/self/cgroup
    assert_success
    assert_line --regexp '^[0-9]+:pids:/sub$'
    assert_line --regexp '^[0-9]+:memory:/$'
  fi
  # Outside the container's cgroup: refused.
  run --separate-stderr kist exec --cgroup ../.. "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"--cgroup"* ]]
  run --separate-stderr kist exec --cgroup nosuchctrl:sub "$ID" true
  [ "$status" -eq 255 ]
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  for d in "${dirs[@]}"; do rmdir "$d"; done
}

# The seccomp agent of the helper test: continues every notified syscall,
# except that the first one of the second listener (the exec) is held until
# $dir/release exists; its host pid goes to $dir/held.
agent_py() {
  cat <<'PY'
import array, json, os, socket, struct, sys, fcntl, select, time
sock_path, d = sys.argv[1], sys.argv[2]
RECV, SEND, CONT = 0xc0502100, 0xc0182101, 1
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path); srv.listen(8)
open(os.path.join(d, "agent.ready"), "w").close()
listeners, held, accepted, target = [], None, 0, None
def answer(fd, nid):
    try: fcntl.ioctl(fd, SEND, struct.pack("QqiI", nid, 0, 0, CONT))
    except OSError: pass
while True:
    if held and os.path.exists(os.path.join(d, "release")):
        answer(*held); held = None
    r, _, _ = select.select([srv] + listeners, [], [], 0.05)
    for f in r:
        if f is srv:
            c, _ = srv.accept()
            fds = array.array("i")
            msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_LEN(4))
            for lvl, typ, data in anc:
                fds.frombytes(data[:4])
            c.close()
            accepted += 1
            if accepted == 2:
                target = fds[0]
            listeners.append(fds[0])
            continue
        buf = bytearray(80)
        try: fcntl.ioctl(f, RECV, buf)
        except OSError:
            listeners.remove(f); continue
        nid, pid = struct.unpack_from("QI", buf)
        if f == target and held is None and not os.path.exists(os.path.join(d, "held")):
            with open(os.path.join(d, "held"), "w") as h: h.write(str(pid))
            held = (f, nid); continue
        answer(f, nid)
PY
}

@test "exec: the process before execve is not readable or ptraceable from the container" {
  local d=$BATS_TEST_TMPDIR
  agent_py >"$d/agent.py"
  python3 "$d/agent.py" "$d/agent.sock" "$d" >"$d/agent.log" 2>&1 &
  echo $! >"$d/agent.pid"
  for _ in $(seq 100); do [ -e "$d/agent.ready" ] && break; sleep 0.05; done
  # execve is notified: the agent holds the exec's, just before its execve.
  set_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $s,
    syscalls: [{names: ["execve"], action: "SCMP_ACT_NOTIFY"}]}' --arg s "$d/agent.sock"
  start_container
  kist exec "$ID" echo released >"$d/held-exec.out" 2>&1 &
  echo $! >"$d/exec.pid"
  for _ in $(seq 200); do [ -s "$d/held" ] && break; sleep 0.05; done
  [ -s "$d/held" ]
  local host cpid
  host=$(cat "$d/held")
  cpid=$(awk '/^NSpid:/ {print $NF}' /proc/$host/status)
  [ -n "$cpid" ]
  # It is the kist process of the exec, still before execve, and visible.
  [ "$(cat /proc/$host/comm)" = kist ]
  # It holds no host file: stdio and its report socket to kist only.
  local fds f
  fds=$(ls /proc/$host/fd | sort -n | tr '\n' ' ')
  [[ "$fds" =~ ^0\ 1\ 2\ [0-9]+\ $ ]] || fail "the helper holds fds $fds"
  f=${fds#0 1 2 }
  [[ "$(readlink /proc/$host/fd/${f% })" == socket:* ]] || fail "fd $f is $(readlink /proc/$host/fd/${f% })"
  [ "$(awk '/^TracerPid:/ {print $2}' /proc/$host/status)" = 0 ]
  run kist exec "$ID" sh -c "grep -E '^(Name|NSpid):' /proc/$cpid/status"
  assert_success
  assert_line --regexp '^Name:[[:space:]]+kist$'
  run kist exec "$ID" sh -c "cat /proc/$cpid/exe >/dev/null"
  assert_failure
  assert_output --partial "Permission denied"
  run kist exec "$ID" sh -c "ls -l /proc/$cpid/fd/ 2>&1; cat /proc/$cpid/environ"
  assert_failure
  assert_output --partial "Permission denied"
  # The control: a process of the container is readable.
  run kist exec "$ID" sh -c 'cat /proc/1/exe >/dev/null && echo readable'
  assert_output readable
  touch "$d/release"
  wait "$(cat "$d/exec.pid")"
  [ "$(cat "$d/held-exec.out")" = released ]
}

@test "exec: joins a user namespace first (mapped root, the same user ns as the init)" {
  set_config '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  # The mapped root must reach the bundle through bats' private temp dirs.
  chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
  chown -R 100000:100000 "$BUNDLE/rootfs"
  start_container
  run kist exec "$ID" sh -c 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 "$(readlink /proc/$(init_pid)/ns/user)"
  assert_line --index 1 0
  assert_line --index 2 --regexp '^ +0 +100000 +65536$'
  # Host view: the process runs as the mapped uid.
  kist exec -d --pid-file "$BATS_TEST_TMPDIR/u.pid" -u 1000 "$ID" sleep 100 >/dev/null 2>&1 </dev/null
  local p
  p=$(cat "$BATS_TEST_TMPDIR/u.pid")
  run awk '/^Uid:/ {print $2}' /proc/$p/status
  assert_output 101000
  kill "$p"
}

@test "exec: the process gets scheduler, ioPriority and personality like the init; --process overrides" {
  set_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 5}
    | .process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}
    | .linux.personality = {domain: "LINUX32"}'
  start_container
  # /proc/self/stat: field 19 is nice, 41 the policy (3 = SCHED_BATCH).
  local probe='uname -m; cut -d" " -f19,41 /proc/self/stat; ionice -p $$'
  run kist exec "$ID" sh -c "$probe"
  assert_success
  assert_line --index 0 --regexp '^i[3-6]86$'
  assert_line --index 1 "5 3"
  assert_line --index 2 --regexp 'best.effort.*6'
  # The init has the same (the control: exec does what create did).
  local pid
  pid=$(init_pid)
  [ "$(cut -d' ' -f19,41 /proc/$pid/stat)" = "5 3" ]
  # A process file's scheduler and ioPriority replace the container's.
  jq -n --arg p "$probe" '{args: ["sh", "-c", $p], cwd: "/",
    scheduler: {policy: "SCHED_IDLE"}, ioPriority: {class: "IOPRIO_CLASS_IDLE"}}' \
    >"$BATS_TEST_TMPDIR/proc.json"
  run kist exec --process "$BATS_TEST_TMPDIR/proc.json" "$ID"
  assert_success
  assert_line --index 1 --regexp '^-?[0-9]+ 5$'
  assert_line --index 2 --regexp '^idle'
}
