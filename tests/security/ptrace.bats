#!/usr/bin/env bats
# CVE-2016-9962 class: while kist's own processes (the waiting init, which is
# a fork of kist, the foreground `run`, later the exec helper) are reachable
# from the container, they must not be ptrace-able or readable through /proc,
# and must not hold host files a container process could take over.

load ../helpers
load sec

setup() {
  sec_setup
}

teardown() {
  sec_teardown
}


# The kernel makes /proc/PID of a non-dumpable process owned by root (of the
# process's mm owner namespace, here the host's) instead of by the process's
# euid: with the init running as host uid 100000, the owner of
# /proc/PID/status tells whether PR_SET_DUMPABLE(0) is in force.
@test "ptrace: the init waiting for start is not dumpable (PR_SET_DUMPABLE 0)" {
  setup_bundle true
  userns_bundle
  kist create --bundle "$BUNDLE" dump1 </dev/null >/dev/null 2>&1
  local pid
  pid=$(init_pid dump1)
  run awk '$1 == "Uid:" { print $3 }' "/proc/$pid/status"
  assert_output 100000
  [ "$(stat -c %u "/proc/$pid/status")" = 0 ] ||
    fail "/proc/$pid is owned by $(stat -c %u "/proc/$pid/status"): the waiting init is dumpable"
  [ "$(stat -c %u "/proc/$pid/exe")" = 0 ]
}

@test "ptrace: the waiting init holds no host directory or file" {
  setup_bundle true
  kist create --bundle "$BUNDLE" fds1 </dev/null >/dev/null 2>&1
  local pid fd target bad=
  pid=$(init_pid fds1)
  for fd in /proc/"$pid"/fd/*; do
    target=$(readlink "$fd")
    case "${fd##*/}:$target" in
    [012]:* | *:socket:* | *:pipe:*) ;;
    *) bad="$bad ${fd##*/}->$target" ;;
    esac
  done
  [ -z "$bad" ] || fail "the waiting init holds:$bad"
  # Its root is the container's, not the host's.
  [ "$(stat -L -c %i "/proc/$pid/root")" = "$(stat -c %i "$BUNDLE/rootfs")" ] ||
    fail "the waiting init's root is not the rootfs"
}

# A container sharing the host's pid namespace (the config has no pid
# namespace) and with the default capabilities goes after the waiting init
# and the foreground `kist run`: no ptrace, no /proc/PID/{mem,environ,exe}.
@test "ptrace: a container cannot ptrace or read the waiting init or the foreground kist run" {
  setup_bundle sleep 30
  probe_install "$BUNDLE/rootfs"
  kist create --bundle "$BUNDLE" target </dev/null >/dev/null 2>&1
  local init
  init=$(init_pid target)

  local fg=$BATS_TEST_TMPDIR/fg
  mkdir -p "$fg"
  cp -a "$BUNDLE/rootfs" "$fg/rootfs"
  cp "$BUNDLE/config.json" "$fg/config.json"
  bg_start "$KIST" --root "$KIST_ROOT" run --bundle "$fg" fgrun
  local runpid
  runpid=$(tail -n 1 "$BG_PIDS")
  wait_for_status fgrun running

  local attacker=$BATS_TEST_TMPDIR/attacker
  mkdir -p "$attacker"
  cp -a "$BUNDLE/rootfs" "$attacker/rootfs"
  local script="for p in $init $runpid; do
      echo \"\$p ptrace \$(probe ptrace \$p)\"
      for f in mem environ exe cwd/. root/.; do echo \"\$p \$f \$(probe open /proc/\$p/\$f r)\"; done
    done"
  jq --arg s "$script" '.process.args = ["sh", "-c", $s]
    | .linux.namespaces |= map(select(.type != "pid"))' \
    "$BUNDLE/config.json" >"$attacker/config.json"
  run --separate-stderr kist run --bundle "$attacker" attacker
  echo "$output"
  assert_success
  refute_output --regexp ' ok$'
  [ "${#lines[@]}" -eq 12 ]
}

# Once `exec` exists, its helper is a fork of kist inside the container: the
# container's processes must not be able to ptrace it while it works.
@test "ptrace: a container process cannot ptrace kist exec's helper" {
  has_exec || skip "kist exec is not implemented yet ('kist exec --help' fails): this test runs once it is"
  # (One line: setup_bundle splits its arguments at newlines.)
  setup_bundle sh -c 'end=$(($(date +%s) + 20)); while [ $(date +%s) -lt $end ]; do for p in /proc/[0-9]*; do p=${p#/proc/}; if [ $p != 1 ] && [ $p != $$ ] && probe ptrace $p | grep -q "^ok$"; then echo "ptraced $p $(cat /proc/$p/comm)" >> /ptrace.out; fi; done; done'
  probe_install "$BUNDLE/rootfs"
  kist run --detach --bundle "$BUNDLE" execp </dev/null >/dev/null 2>&1
  local i
  for i in $(seq 1 30); do
    kist exec execp true >/dev/null 2>&1 || true
  done
  run cat "$BUNDLE/rootfs/ptrace.out"
  refute_output --partial kist
}

@test "ptrace: exec into a created container is refused (the waiting init stays out of reach)" {
  has_exec || skip "kist exec is not implemented yet ('kist exec --help' fails): this test runs once it is"
  setup_bundle true
  probe_install "$BUNDLE/rootfs"
  kist create --bundle "$BUNDLE" waiting </dev/null >/dev/null 2>&1
  # Between create and start the init is a fork of kist: no process of the
  # container may exist beside it to ptrace or read it.
  run --separate-stderr kist exec waiting sh -c 'echo "ptrace $(probe ptrace 1)"'
  [ "$status" -eq 255 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"created, not running"* ]]
  [ -z "$output" ]
}
