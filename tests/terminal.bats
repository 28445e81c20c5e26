#!/usr/bin/env bats
# Terminals: `exec -t` relayed by kist (driven through script(1) and tmux),
# --console-socket with contrib/recvtty, consoleSize, the caller's termios
# restored, and the errors of impossible combinations.

load helpers
bats_require_minimum_version 1.5.0

RECVTTY=${RECVTTY:-$(dirname "$KIST")/contrib/recvtty/kist-recvtty}

setup() {
  [ -x "$RECVTTY" ] || skip "kist-recvtty not built ($RECVTTY)"
  setup_bundle sleep 3600
  ID=kt$BATS_TEST_NUMBER-$$
  TMUX_SOCK=kist-test-$$-$BATS_TEST_NUMBER
  KX="$KIST --root $KIST_ROOT"
}

teardown() {
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
  local f
  for f in "$BATS_TEST_TMPDIR"/*.pid; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  common_teardown
}

start_container() {
  if ! kist create --bundle "$BUNDLE" "$ID" >"$BATS_TEST_TMPDIR/create.out" 2>&1 </dev/null; then
    cat "$BATS_TEST_TMPDIR/create.out" >&2
    return 1
  fi
  kist start "$ID"
}

# in_pty SCRIPT: runs the bash SCRIPT with a pty as its terminal (script(1));
# output has \r\n line ends, stripped here. At EOF of its stdin script(1)
# types a NUL into the pty, echoed as "^@" by the next cooked reader: dropped.
in_pty() {
  run bash -c 'script -qec "$1" /dev/null </dev/null | tr -d "\r" | sed "s/\^@//g"
    exit "${PIPESTATUS[0]}"' _ "$1"
}

# start_recvtty SOCKET ARGS...: kist-recvtty in the background, pid saved.
start_recvtty() {
  local sock=$1
  shift
  "$RECVTTY" "$@" "$sock" >"$BATS_TEST_TMPDIR/recvtty.out" 2>"$BATS_TEST_TMPDIR/recvtty.err" &
  echo $! >"$BATS_TEST_TMPDIR/recvtty.pid"
  for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.02; done
  echo "recvtty did not listen on $sock" >&2
  return 1
}

# tmux_wait REGEX: until the pane shows REGEX (5 s).
tmux_wait() {
  local i
  for i in $(seq 100); do
    tmux -L "$TMUX_SOCK" capture-pane -p -t t | grep -Eq "$1" && return 0
    sleep 0.05
  done
  echo "pane never showed /$1/:" >&2
  tmux -L "$TMUX_SOCK" capture-pane -p -t t >&2
  return 1
}

@test "terminal: exec -t gets a pty of the container's devpts, sized like the caller's" {
  start_container
  in_pty "stty rows 33 cols 111; $KX exec -t $ID sh -c 'tty; stty size; [ -t 0 ] && echo stdin-tty; ls /dev/pts'"
  assert_success
  assert_line --index 0 /dev/pts/0
  assert_line --index 1 "33 111"
  assert_line --index 2 stdin-tty
  # The container's own devpts instance: its first pty, and its ptmx.
  assert_line --index 3 --regexp '^0 +ptmx$'
}

@test "terminal: exec -t exit status, and the caller's termios restored on every path" {
  start_container
  local check='b=$(stty -g); '"$KX"' exec -t '"$ID"' sh -c "exit 7"; echo rc=$?; [ "$(stty -g)" = "$b" ] && echo same1;'
  check+=' '"$KX"' exec -t '"$ID"' no-such-cmd 2>/dev/null; echo rc=$?; [ "$(stty -g)" = "$b" ] && echo same2;'
  check+=' '"$KX"' exec -t '"$ID"' sh -c "kill -9 \$\$"; echo rc=$?; [ "$(stty -g)" = "$b" ] && echo same3;'
  # Raw mode really was on while the process ran (else the test proves nothing).
  check+=' '"$KX"' exec -t '"$ID"' true & sleep 0.01; wait; stty -a | grep -q " icanon" && echo cooked'
  in_pty "$check"
  assert_success
  assert_line rc=7
  assert_line rc=127
  assert_line rc=137
  assert_line same1
  assert_line same2
  assert_line same3
  assert_line cooked
}

@test "terminal: exec -t under tmux: keys in, output out, resize propagates (SIGWINCH)" {
  start_container
  tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s t -x 100 -y 30 \
    "$KX exec -t $ID sh; echo exited=\$?; sleep 30"
  tmux -L "$TMUX_SOCK" set -g status off
  tmux -L "$TMUX_SOCK" send-keys -t t 'echo $((6 * 7)); stty size' Enter
  tmux_wait '^42$'
  tmux_wait '^30 100$'
  tmux -L "$TMUX_SOCK" resize-window -t t -x 70 -y 20
  tmux -L "$TMUX_SOCK" send-keys -t t 'stty size' Enter
  tmux_wait '^20 70$'
  # The resize reaches the terminal's foreground process group as SIGWINCH.
  tmux -L "$TMUX_SOCK" send-keys -t t \
    "sh -c 'trap \"echo winch-seen\" WINCH; echo trap-set; while :; do sleep 0.05; done'" Enter
  tmux_wait '^trap-set$'
  tmux -L "$TMUX_SOCK" resize-window -t t -x 90 -y 25
  tmux_wait '^winch-seen$'
  # ^C goes to the container's terminal (ends that loop), not to kist.
  tmux -L "$TMUX_SOCK" send-keys -t t C-c
  tmux -L "$TMUX_SOCK" send-keys -t t 'echo still-here' Enter
  tmux_wait '^still-here$'
  tmux -L "$TMUX_SOCK" send-keys -t t 'exit 5' Enter
  tmux_wait '^exited=5$'
}

@test "terminal: --console-socket with kist-recvtty (copy mode)" {
  start_container
  local sock=$BATS_TEST_TMPDIR/console.sock
  # recvtty's stdin is the terminal's input.
  printf 'echo typed-$((40 + 2))\nexit 4\n' >"$BATS_TEST_TMPDIR/in"
  "$RECVTTY" --size 24x91 "$sock" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/recvtty.out" \
    2>"$BATS_TEST_TMPDIR/recvtty.err" &
  local rp=$!
  echo $rp >"$BATS_TEST_TMPDIR/recvtty.pid"
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.02; done
  run kist exec -t --console-socket "$sock" "$ID" sh -c 'sleep 0.2; stty size; tty; exec sh'
  [ "$status" -eq 4 ]
  wait "$rp"
  run tr -d '\r' <"$BATS_TEST_TMPDIR/recvtty.out"
  assert_line "24 91"
  assert_line /dev/pts/0
  assert_line typed-42
  run cat "$BATS_TEST_TMPDIR/recvtty.err"
  assert_output --partial "got /dev/pts/0"
}

@test "terminal: consoleSize from --process, detached exec with recvtty --mode null" {
  start_container
  local sock=$BATS_TEST_TMPDIR/console.sock
  start_recvtty "$sock" --mode null
  cat >"$BATS_TEST_TMPDIR/proc.json" <<'JSON'
{"terminal": true, "consoleSize": {"height": 17, "width": 53}, "cwd": "/",
 "args": ["sh", "-c", "stty size >/tmp/size; tty >/tmp/tty; exec sleep 100"]}
JSON
  kist exec -d --pid-file "$BATS_TEST_TMPDIR/p.pid" --console-socket "$sock" \
    --process "$BATS_TEST_TMPDIR/proc.json" "$ID" >"$BATS_TEST_TMPDIR/exec.out" 2>&1 </dev/null
  local p
  p=$(cat "$BATS_TEST_TMPDIR/p.pid")
  for _ in $(seq 100); do [ -s "$BUNDLE/rootfs/tmp/tty" ] && break; sleep 0.05; done
  [ "$(cat "$BUNDLE/rootfs/tmp/size")" = "17 53" ]
  [ "$(cat "$BUNDLE/rootfs/tmp/tty")" = /dev/pts/0 ]
  # A session of its own with the pty as controlling terminal.
  run kist exec "$ID" sh -c 'cat /proc/$(pidof sleep | tr " " "\n" | sort -n | tail -1)/stat'
  [ "$(cut -d' ' -f7 <<<"$output")" != 0 ]
  kill "$p"
}

@test "terminal: impossible combinations are refused" {
  start_container
  run --separate-stderr kist exec -t -d "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"--console-socket"* ]]
  run --separate-stderr kist exec --console-socket "$BATS_TEST_TMPDIR/none.sock" "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"-t"* ]]
  run --separate-stderr kist exec -t --console-socket "$BATS_TEST_TMPDIR/none.sock" "$ID" true
  [ "$status" -eq 255 ]
  [[ "$stderr" == *"none.sock"* ]]
}

@test "terminal: run with process.terminal relays in the foreground, sized like the caller, and restores termios" {
  # The size is read first thing: it must be the caller's from the start,
  # not after a resize that races with the process.
  set_config '.process.terminal = true | .process.args = ["sh", "-c", "stty size; tty; exit 6"]'
  in_pty "stty rows 21 cols 77; b=\$(stty -g); $KX run --bundle $BUNDLE $ID; echo rc=\$?; [ \"\$(stty -g)\" = \"\$b\" ] && echo same"
  assert_success
  assert_line --index 0 "21 77"
  assert_line /dev/pts/0
  assert_line rc=6
  assert_line same
}
