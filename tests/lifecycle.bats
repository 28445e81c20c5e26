#!/usr/bin/env bats
# create / start: the happy path, its error cases, and what is left behind
# (nothing) when create fails.

load helpers

setup() {
  setup_bundle sleep 100
  ID=kl$BATS_TEST_NUMBER-$$
  OUT=$BATS_TEST_TMPDIR/create.out
  ERR=$BATS_TEST_TMPDIR/create.err
}

teardown() {
  common_teardown
}

# kcreate [OPTIONS...] ID: create with stdio redirected to files (the init
# keeps create's stdio: a pipe would make bats wait for the container).
# Sets $status and $output (stderr of create).
kcreate() {
  status=0
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$@" >"$OUT" 2>"$ERR" </dev/null || status=$?
  output=$(cat "$ERR")
}

state_field() {
  kist state "$1" | jq -r ".$2"
}

# No cgroup directory named after the container (the default /kist-ID, or
# one named ID) is left in any hierarchy.
assert_no_cgroup() {
  local left
  left=$(find /sys/fs/cgroup -maxdepth 4 -type d \( -name "$1" -o -name "kist-$1" \) 2>/dev/null)
  if [ -n "$left" ]; then
    echo "cgroups left behind: $left" >&2
    return 1
  fi
}

assert_no_mounts() {
  if grep -F "$BUNDLE" /proc/self/mountinfo; then
    echo "mounts of the bundle left in the host mount table" >&2
    return 1
  fi
}

@test "create: the container is created, its init waits in its cgroup" {
  kcreate "$ID"
  assert_success
  [ "$(state_field "$ID" status)" = created ]
  pid=$(state_field "$ID" pid)
  [ "$pid" -gt 1 ]
  kill -0 "$pid"
  # Already in its final cgroup when create returns.
  grep -F "$ID" "/proc/$pid/cgroup"
  # The user process has not run yet: the init is still kist.
  [ "$(readlink "/proc/$pid/exe")" != "$BUNDLE/rootfs/bin/busybox" ]
}

@test "start: created -> running, the process is the config's" {
  kcreate "$ID"
  assert_success
  run kist start "$ID"
  assert_success
  [ "$(state_field "$ID" status)" = running ]
  pid=$(state_field "$ID" pid)
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
  [ ! -e "$KIST_ROOT/$ID/start.sock" ]
}

@test "start twice: the second start fails and changes nothing" {
  kcreate "$ID"
  run kist start "$ID"
  assert_success
  pid=$(state_field "$ID" pid)
  run kist start "$ID"
  assert_failure
  assert_output --partial "running"
  [ "$(state_field "$ID" status)" = running ]
  [ "$(state_field "$ID" pid)" = "$pid" ]
}

@test "start of a stopped container fails" {
  set_config '.process.args = ["true"]'
  kcreate "$ID"
  run kist start "$ID"
  assert_success
  wait_for_status "$ID" stopped
  run kist start "$ID"
  assert_failure
  assert_output --partial "stopped"
}

@test "start without a process in the config fails and the container stops" {
  # Such a container can never run: start errors (runtime.md) and its init
  # exits, so it does not linger as "created"; delete then works unforced.
  set_config 'del(.process)'
  kcreate "$ID"
  assert_success
  run kist start "$ID"
  assert_failure
  assert_output --partial "the config has no process to start"
  wait_for_status "$ID" stopped
  run kist delete "$ID"
  assert_success
}

@test "create of an existing id fails and leaves the first one alone" {
  kcreate "$ID"
  assert_success
  pid=$(state_field "$ID" pid)
  kcreate "$ID"
  assert_failure
  assert_output --partial "already exists"
  [ "$(state_field "$ID" status)" = created ]
  [ "$(state_field "$ID" pid)" = "$pid" ]
  kill -0 "$pid"
}

@test "unknown id: start, state, kill and delete fail" {
  for cmd in start state kill delete; do
    run kist "$cmd" nosuch
    assert_failure
    assert_output --partial "does not exist"
  done
}

@test "create with a bad id fails before anything is made" {
  for bad in 'a/b' '..' '.' 'a b' 'x;y' "$(printf 'a%.0s' {1..1025})"; do
    kcreate "$bad"
    assert_failure
    assert_output --partial "id"
  done
  # Refused before even the state root is made.
  [ ! -e "$KIST_ROOT" ]
}

@test "create with a missing rootfs fails and leaves nothing" {
  set_config '.root.path = "nonexistent"'
  kcreate "$ID"
  assert_failure
  assert_output --partial "root.path"
  assert_root_empty
  assert_no_cgroup "$ID"
}

@test "create with a pid file in a missing directory fails and leaves nothing" {
  kcreate --pid-file "$BATS_TEST_TMPDIR/nodir/pid" "$ID"
  assert_failure
  assert_output --partial "pid-file"
  assert_root_empty
  assert_no_cgroup "$ID"
}

@test "create: the pid file holds the pid, digits only" {
  kcreate --pid-file "$BATS_TEST_TMPDIR/pid" "$ID"
  assert_success
  pid=$(state_field "$ID" pid)
  [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
  [ "$(wc -c <"$BATS_TEST_TMPDIR/pid")" -eq "${#pid}" ]
  # Written atomically: no temporary file next to it.
  [ "$(ls "$BATS_TEST_TMPDIR" | grep -c '^pid')" -eq 1 ]
}

@test "create: a failing mount leaves no state, cgroup, process or mount" {
  set_config '.mounts += [{"destination": "/bad", "type": "nosuchfs", "source": "x"}]'
  kcreate "$ID"
  assert_failure
  assert_output --partial "mounts["
  assert_output --partial "nosuchfs"
  # One line: the init's error, as it printed it.
  [ "$(wc -l <"$ERR")" -eq 1 ]
  assert_root_empty
  assert_no_cgroup "$ID"
  assert_no_mounts
}

@test "create: an invalid config is refused before anything is made" {
  set_config '.mounts += [{"destination": "relative", "type": "tmpfs", "source": "tmpfs"}]'
  kcreate "$ID"
  assert_failure
  assert_output --partial "absolute"
  assert_root_empty
  assert_no_cgroup "$ID"
}

@test "create: a missing cwd is an error at start, with the path named" {
  set_config '.process.cwd = "/nonexistent"'
  kcreate "$ID"
  run kist start "$ID"
  assert_failure
  assert_output --partial "/nonexistent"
}

@test "create: the container's stdout is create's stdout" {
  set_config '.process.args = ["sh", "-c", "echo hello-out; echo hello-err >&2"]'
  kcreate "$ID"
  assert_success
  run kist start "$ID"
  assert_success
  wait_for_status "$ID" stopped
  grep -qx hello-out "$OUT"
  grep -qx hello-err "$ERR"
}

@test "lifecycle: create, start, kill, delete leaves nothing behind" {
  kcreate "$ID"
  run kist start "$ID"
  assert_success
  run kist kill "$ID" KILL
  assert_success
  wait_for_status "$ID" stopped
  run kist delete "$ID"
  assert_success
  assert_root_empty
  assert_no_cgroup "$ID"
  assert_no_mounts
}

@test "hooks run in the spec's order with the state on stdin" {
  log=$BUNDLE/rootfs/hooks.log
  # One script for all: the host runs it by its host path, startContainer
  # (which resolves in the container) by /hook.sh.
  cat >"$BUNDLE/rootfs/hook.sh" <<'SH'
#!/bin/sh
s=$(cat)
echo "$1 $(echo "$s" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')" >>"$2"
SH
  chmod 755 "$BUNDLE/rootfs/hook.sh"
  hook() { # hook NAME [SCRIPT LOG]
    printf '{"path": "%s", "args": ["hook.sh", "%s", "%s"]}' "${2:-$BUNDLE/rootfs/hook.sh}" "$1" "${3:-$log}"
  }
  set_config ".hooks = {
    \"prestart\": [$(hook prestart)],
    \"createRuntime\": [$(hook createRuntime)],
    \"createContainer\": [$(hook createContainer)],
    \"startContainer\": [$(hook startContainer /hook.sh /hooks.log)],
    \"poststart\": [$(hook poststart)],
    \"poststop\": [$(hook poststop)]}"
  kcreate "$ID"
  assert_success
  run kist start "$ID"
  assert_success
  run kist delete --force "$ID"
  assert_success
  run cut -d' ' -f1 "$log"
  assert_output "prestart
createRuntime
createContainer
startContainer
poststart
poststop"
  grep -qx "prestart creating" "$log"
  grep -qx "poststart running" "$log"
  grep -qx "poststop stopped" "$log"
}

@test "a failing createRuntime hook fails create and leaves nothing" {
  set_config '.hooks = {"createRuntime": [{"path": "/bin/false"}]}'
  kcreate "$ID"
  assert_failure
  assert_output --partial "createRuntime"
  assert_root_empty
  assert_no_cgroup "$ID"
}

@test "the bundle's config may change after create without effect" {
  set_config '.process.args = ["sh", "-c", "echo first"]'
  kcreate "$ID"
  set_config '.process.args = ["sh", "-c", "echo second"]'
  run kist start "$ID"
  wait_for_status "$ID" stopped
  grep -qx first "$OUT"
}

@test "create: the init holds no host file descriptors, the process only stdio" {
  kcreate "$ID"
  pid=$(state_field "$ID" pid)
  # stdio and the start socket it waits on, nothing else.
  run sh -c "ls /proc/$pid/fd | sort -n | tr '\n' ' '"
  assert_output --regexp '^0 1 2 [0-9]+ $'
  for fd in $(ls "/proc/$pid/fd"); do
    [ "$fd" -le 2 ] || [[ $(readlink "/proc/$pid/fd/$fd") == socket:* ]]
  done
  kist start "$ID"
  run ls "/proc/$pid/fd"
  assert_output "0
1
2"
}

@test "terminal: the pty master goes to --console-socket, consoleSize applied" {
  command -v python3 || skip "python3 needed for the console socket receiver"
  sock=$BATS_TEST_TMPDIR/console.sock
  cat >"$BATS_TEST_TMPDIR/recv.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
out = b""
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    out += d
open(sys.argv[2], "wb").write(msg + b"\n" + out)
PY
  python3 "$BATS_TEST_TMPDIR/recv.py" "$sock" "$BATS_TEST_TMPDIR/tty.out" &
  recv=$!
  for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  set_config '.process.terminal = true | .process.consoleSize = {"height": 40, "width": 100}
    | .process.args = ["sh", "-c", "tty; stty size; echo hello-tty"]'
  kcreate --console-socket "$sock" "$ID"
  assert_success
  kist start "$ID"
  wait_for_status "$ID" stopped
  wait "$recv"
  run cat "$BATS_TEST_TMPDIR/tty.out"
  assert_line --index 0 --regexp '^/dev/pts/[0-9]+$'
  assert_line --partial "40 100"
  assert_line --partial hello-tty
}

@test "terminal: create without --console-socket is refused before anything is made" {
  set_config '.process.terminal = true'
  kcreate "$ID"
  assert_failure
  assert_output --partial "console-socket"
  assert_root_empty
}
