#!/bin/sh
# make check: examples/embed runs a busybox container through libkist, in
# one call (kist_run) and step by step (create/inspect/start/wait/delete),
# and passes the process's exit code through.  Needs root and Debian's
# busybox-static; skips (77) without them.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
srcdir=${srcdir:-.}
embed=${EMBED:-./examples/embed}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: running containers needs root"
  exit 77
fi
if ! command -v jq >/dev/null; then
  echo "SKIP: jq missing (apt-get install jq)"
  exit 77
fi
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
  echo "SKIP: no static /bin/busybox (apt-get install busybox-static)"
  exit 77
fi

tmp=$(mktemp -d /tmp/kist-embed.XXXXXX)
root=$tmp/state
cleanup() {
  [ -d "$root" ] && "$embed" --root "$root" cleanup >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

bash "$srcdir/contrib/demo/make-rootfs.sh" "$tmp/bundle/rootfs" || exit 99
cp "$srcdir/contrib/demo/config.json" "$tmp/bundle/config.json" || exit 99

# kist_run in the foreground: the demo prints its hostname and pid 1.
out=$("$embed" --root "$root" run "$tmp/bundle" embed-run 2>&1)
rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "run: exit status $rc"
case $out in *hostname=kist-demo*) ;; *) fail "run: no hostname=kist-demo in the output" ;; esac
case $out in *pid=1*) ;; *) fail "run: the process is not pid 1" ;; esac

# The steps, with kist_wait reaping the init this process created.
out=$("$embed" --root "$root" lifecycle "$tmp/bundle" embed-steps 2>&1)
rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "lifecycle: exit status $rc"
case $out in *"embed-steps is created"*) ;; *) fail "lifecycle: inspect did not say created" ;; esac
case $out in *'"stopped"'*) ;; *) fail "lifecycle: state after wait is not stopped" ;; esac
case $out in *hostname=kist-demo*) ;; *) fail "lifecycle: no output from the container" ;; esac

# Exit codes pass through, both ways.
jq '.process.args = ["sh", "-c", "exit 7"]' "$tmp/bundle/config.json" >"$tmp/c.json" &&
  mv "$tmp/c.json" "$tmp/bundle/config.json"
"$embed" --root "$root" run "$tmp/bundle" embed-exit7 >/dev/null 2>&1
rc=$?
[ "$rc" = 7 ] || fail "run: exit status $rc, expected 7"
"$embed" --root "$root" lifecycle "$tmp/bundle" embed-exit7b >/dev/null 2>&1
rc=$?
[ "$rc" = 7 ] || fail "lifecycle: exit status $rc, expected 7"

# A running container: pids, pause/resume, update, stats, kill + wait.
jq '.process.args = ["sleep", "100"]' "$tmp/bundle/config.json" >"$tmp/c.json" &&
  mv "$tmp/c.json" "$tmp/bundle/config.json"
out=$("$embed" --root "$root" live "$tmp/bundle" embed-live 2>&1)
rc=$?
echo "$out"
[ "$rc" = 137 ] || fail "live: exit status $rc, expected 137 (SIGKILL)"
case $out in *"has 1 process(es)"*) ;; *) fail "live: kist_pids did not find the process" ;; esac
case $out in *"after pause embed-live is paused"*) ;; *) fail "live: not paused after kist_pause" ;; esac
case $out in *"after resume embed-live is running"*) ;; *) fail "live: not running after kist_resume" ;; esac
case $out in *'stats {"type":"stats"'*) ;; *) fail "live: no stats event" ;; esac

# A command that does not exist: the check names it, and kist_run gives 127.
jq '.process.args = ["/no/such/command"]' "$tmp/bundle/config.json" >"$tmp/c.json" &&
  mv "$tmp/c.json" "$tmp/bundle/config.json"
out=$("$embed" --root "$root" run "$tmp/bundle" embed-missing 2>&1)
rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "missing command: kist_config_check let it through (status $rc)"
case $out in *"process.args[0]"*"/no/such/command"*) ;; *) fail "check: no process.args[0] problem" ;; esac
# Unchecked, kist_run itself refuses it: 127, like a shell.
out=$("$embed" --root "$root" --no-check run "$tmp/bundle" embed-missing 2>&1)
rc=$?
echo "$out"
[ "$rc" = 127 ] || fail "missing command: exit status $rc, expected 127"
case $out in *"/no/such/command"*) ;; *) fail "run: the error does not name the command" ;; esac

# Nothing may be left under the state root.
left=$(find "$root" -mindepth 1 -maxdepth 1 2>/dev/null)
[ -z "$left" ] || fail "state left behind: $left"

[ "$failures" = 0 ] || exit 1
echo "PASS"
