#!/usr/bin/env bats
# Soak: KIST_SOAK_CYCLES (200; 1000 on demand) create/start/delete cycles,
# 8 at a time — seven `kist` command lines and one long-lived program that
# embeds libkist (soak-caller.c) — then KIST_SOAK_EXECS (200) execs, 8 at a
# time, into one container. Afterwards: no fd, child or memory growth in the
# embedding program, no mount, cgroup, state dir or process of the soak
# left, no zombie, and the host's MemAvailable within KIST_SOAK_MEM_MB (512)
# of where it started (other work on a shared host moves it by a few
# hundred MiB).
#
#   KIST_SOAK_CYCLES=1000 bats tests/security/soak.bats

load ../helpers
load sec

CALLER=${BATS_RUN_TMPDIR:-/tmp}/kist-soak-caller

setup() {
  sec_setup
  MARK=secrel-soak-$$-$RANDOM
  PREFIX=secrel-soak-$RANDOM
  setup_bundle sleep 1000
  set_config '.process.env += ["SECREL_MARK=" + $m]' --arg m "$MARK"
}

teardown() {
  sec_teardown
  local d
  for d in /sys/fs/cgroup/kist-"$PREFIX"-* /sys/fs/cgroup/*/kist-"$PREFIX"-*; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null
  done
  return 0
}

# The libkist next to $KIST (a libtool build keeps it in .libs).
caller_build() {
  local lib
  lib=$(dirname "$KIST")/.libs
  [ -f "$lib/libkist.so" ] || fail "no libkist.so in $lib (needed for the embedding caller)"
  gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -I"$REPO/include" \
    -o "$CALLER" "$REPO/tests/security/soak-caller.c" -L"$lib" -lkist -Wl,-rpath,"$lib"
}

# What the soak could leave behind, in a comparable form.
snapshot() {
  {
    echo "# mounts"
    grep -F -e "$PREFIX" -e "$BATS_TEST_TMPDIR" /proc/self/mountinfo | awk '{ print $5 }' | sort
    echo "# cgroups"
    ls -d /sys/fs/cgroup/kist-"$PREFIX"-* /sys/fs/cgroup/*/kist-"$PREFIX"-* 2>/dev/null | sort
    echo "# state"
    ls -A "$KIST_ROOT" 2>/dev/null | grep -v '^\.' | sort
    echo "# processes"
    marked_processes
    echo "# zombies (children of this test)"
    ps -o pid=,stat=,comm= --ppid "$BASHPID" 2>/dev/null | awk '$2 ~ /^Z/'
  } >"$1"
}

# Live processes with this test's mark in their environment (read only).
marked_processes() {
  local e pid
  for e in /proc/[0-9]*/environ; do
    pid=${e#/proc/}
    pid=${pid%/environ}
    if tr '\0' '\n' 2>/dev/null <"$e" | grep -qxF "SECREL_MARK=$MARK"; then
      echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
    fi
  done
}

mem_available_kb() {
  awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}

# cli_worker N COUNT: COUNT create/start/delete cycles with the CLI.
cli_worker() {
  local w=$1 count=$2 i id fails=0
  for ((i = 0; i < count; i++)); do
    id=$PREFIX-w$w-$i
    if ! "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$id" </dev/null \
      >/dev/null 2>>"$BATS_TEST_TMPDIR/worker$w.err"; then
      fails=$((fails + 1))
      continue
    fi
    "$KIST" --root "$KIST_ROOT" start "$id" 2>>"$BATS_TEST_TMPDIR/worker$w.err" ||
      fails=$((fails + 1))
    "$KIST" --root "$KIST_ROOT" state "$id" >/dev/null 2>>"$BATS_TEST_TMPDIR/worker$w.err" ||
      fails=$((fails + 1))
    "$KIST" --root "$KIST_ROOT" delete -f "$id" 2>>"$BATS_TEST_TMPDIR/worker$w.err" ||
      fails=$((fails + 1))
  done
  echo "$fails" >"$BATS_TEST_TMPDIR/worker$w.fails"
}

# exec_worker N COUNT ID: COUNT execs into container ID.
exec_worker() {
  local w=$1 count=$2 id=$3 i fails=0 out
  for ((i = 0; i < count; i++)); do
    out=$("$KIST" --root "$KIST_ROOT" exec "$id" echo "x$w-$i" </dev/null \
      2>>"$BATS_TEST_TMPDIR/exec$w.err") || fails=$((fails + 1))
    [ "$out" = "x$w-$i" ] || fails=$((fails + 1))
  done
  echo "$fails" >"$BATS_TEST_TMPDIR/exec$w.fails"
}

@test "soak: create/start/delete cycles, 8 in parallel, then execs: nothing leaks" {
  local cycles=${KIST_SOAK_CYCLES:-200} execs=${KIST_SOAK_EXECS:-200} w per mem0 mem1 t0
  local slack_mb=${KIST_SOAK_MEM_MB:-512}
  caller_build
  per=$(((cycles + 7) / 8))
  # Warm the page cache and the rootfs copy before measuring the host.
  "$KIST" --root "$KIST_ROOT" delete -f "$PREFIX-none"
  snapshot "$BATS_TEST_TMPDIR/before"
  mem0=$(mem_available_kb)
  t0=$SECONDS

  "$CALLER" "$KIST_ROOT" "$BUNDLE" "$PREFIX-lib" "$per" 4096 </dev/null \
    >"$BATS_TEST_TMPDIR/caller.out" 2>"$BATS_TEST_TMPDIR/caller.err" 3>&- &
  local caller=$!
  local pids=()
  for w in 1 2 3 4 5 6 7; do
    cli_worker "$w" "$per" </dev/null 3>&- &
    pids+=($!)
  done
  local caller_rc=0
  wait "$caller" || caller_rc=$?
  for w in "${pids[@]}"; do
    wait "$w"
  done
  echo "# cycles: $((per * 8)) in $((SECONDS - t0))s" >&3
  cat "$BATS_TEST_TMPDIR/caller.out" >&3
  [ "$caller_rc" -eq 0 ] || fail "embedding caller: $(cat "$BATS_TEST_TMPDIR/caller.err")"
  for w in 1 2 3 4 5 6 7; do
    [ "$(cat "$BATS_TEST_TMPDIR/worker$w.fails")" = 0 ] ||
      fail "worker $w: $(cat "$BATS_TEST_TMPDIR/worker$w.fails") failures: $(head -c 600 "$BATS_TEST_TMPDIR/worker$w.err")"
  done

  if has_exec; then
    t0=$SECONDS
    kist_create --bundle "$BUNDLE" "$PREFIX-exec"
    assert_equal "$status" 0
    "$KIST" --root "$KIST_ROOT" start "$PREFIX-exec"
    local kpid
    kpid=$(init_pid "$PREFIX-exec")
    pids=()
    for w in 1 2 3 4 5 6 7 8; do
      exec_worker "$w" $(((execs + 7) / 8)) "$PREFIX-exec" </dev/null 3>&- &
      pids+=($!)
    done
    for w in "${pids[@]}"; do
      wait "$w"
    done
    for w in 1 2 3 4 5 6 7 8; do
      [ "$(cat "$BATS_TEST_TMPDIR/exec$w.fails")" = 0 ] ||
        fail "exec worker $w: $(cat "$BATS_TEST_TMPDIR/exec$w.fails") failures: $(head -c 600 "$BATS_TEST_TMPDIR/exec$w.err")"
    done
    # Every exec'd process is gone: only the init is left in the container.
    local left
    left=$(kist ps --format json "$PREFIX-exec" 2>/dev/null | jq -r 'length' 2>/dev/null || echo 1)
    [ "$left" = 1 ] || fail "$left processes in the container after the execs (want 1)"
    [ "$(init_pid "$PREFIX-exec")" = "$kpid" ]
    "$KIST" --root "$KIST_ROOT" delete -f "$PREFIX-exec"
    echo "# execs: $(((execs + 7) / 8 * 8)) in $((SECONDS - t0))s" >&3
  fi

  # Killed processes may take a moment to be reaped and their cgroups to go.
  local i
  for ((i = 0; i < 50; i++)); do
    snapshot "$BATS_TEST_TMPDIR/after"
    cmp -s "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after" && break
    sleep 0.2
  done
  diff -u "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after" ||
    fail "the soak left something behind (diff above)"
  mem1=$(mem_available_kb)
  echo "# MemAvailable: $((mem0 / 1024)) MiB -> $((mem1 / 1024)) MiB" >&3
  [ $((mem0 - mem1)) -lt $((slack_mb * 1024)) ] ||
    fail "MemAvailable dropped by $(((mem0 - mem1) / 1024)) MiB (bound $slack_mb MiB)"
}
