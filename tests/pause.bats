#!/usr/bin/env bats
# pause and resume (v1 freezer or v2 cgroup.freeze), the "paused" status,
# and ending a paused container without leaving a frozen cgroup behind.

load helpers

CG=/sys/fs/cgroup
# A counter the host can read in the bundle's rootfs; TERM ends it (PID 1
# of a pid namespace ignores signals it has no handler for).
COUNTER='trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i >/tmp/cnt; sleep 0.05; done'

setup() {
  require_command pause
  setup_bundle sh -c "$COUNTER"
  ID=pz$BATS_TEST_NUMBER-$$
}

teardown() {
  local rc=0 d
  common_teardown || rc=1
  # Nothing named after this test may be left in any hierarchy (frozen or not).
  for d in $(find $CG -maxdepth 5 -type d -name "*$ID*" 2>/dev/null | sort -r); do
    echo "cgroup left behind: $d" >&2
    [ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
    [ -e "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze"
    rmdir "$d" 2>/dev/null || true
    rc=1
  done
  return $rc
}

start_one() {
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$1" >/dev/null 2>&1 </dev/null
  kist start "$1"
}

count() {
  cat "$BUNDLE/rootfs/tmp/cnt" 2>/dev/null || echo 0
}

# wait_count_above N: the counter passes N (the container runs).
wait_count_above() {
  local i
  for i in $(seq 100); do
    [ "$(count)" -gt "$1" ] && return 0
    sleep 0.05
  done
  echo "counter stuck at $(count), wanted > $1" >&2
  return 1
}

# The freezer of the cgroup dir named $1 as the kernel reports it: FROZEN or
# THAWED (the v1 freezer when mounted, else cgroup.events of the v2 dir).
freezer_state() {
  local d
  d=$(find $CG/freezer -maxdepth 3 -type d -name "$1" 2>/dev/null | head -1)
  if [ -n "$d" ]; then
    cat "$d/freezer.state"
    return
  fi
  for d in $(find $CG -maxdepth 4 -type d -name "$1" 2>/dev/null); do
    if [ -e "$d/cgroup.freeze" ]; then
      grep -q '^frozen 1' "$d/cgroup.events" && echo FROZEN || echo THAWED
      return
    fi
  done
  echo "no freezer for $1" >&2
  return 1
}

# No cgroup dir of container $1 (the default /kist-ID, or one named ID) is left.
assert_no_cgroup() {
  local left
  left=$(find $CG -maxdepth 5 -type d \( -name "$1" -o -name "kist-$1" \) 2>/dev/null)
  [ -z "$left" ] || { echo "cgroups left: $left" >&2; return 1; }
}

@test "pause: the processes stop, state says paused; resume: they go on" {
  start_one "$ID"
  wait_count_above 2
  run kist pause "$ID"
  assert_success
  assert_output ""
  [ "$(kist state "$ID" | jq -r .status)" = paused ]
  [ "$(freezer_state "kist-$ID")" = FROZEN ]
  local a b
  a=$(count)
  sleep 0.5
  b=$(count)
  [ "$a" = "$b" ] || { echo "counter moved while paused: $a -> $b" >&2; return 1; }
  # list agrees with state.
  run kist list
  assert_line --regexp "^$ID +[0-9]+ +paused "
  run kist resume "$ID"
  assert_success
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  wait_count_above "$b"
  [ "$(freezer_state "kist-$ID")" = THAWED ]
  kist delete --force "$ID"
}

@test "pause: a created container can be paused; resume makes it created again" {
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$ID" >/dev/null 2>&1 </dev/null
  kist pause "$ID"
  [ "$(kist state "$ID" | jq -r .status)" = paused ]
  kist resume "$ID"
  [ "$(kist state "$ID" | jq -r .status)" = created ]
  kist start "$ID"
  wait_count_above 1
  kist delete --force "$ID"
}

@test "pause/resume: wrong states and unknown ids are one-line errors that change nothing" {
  start_one "$ID"
  run --separate-stderr kist resume "$ID"
  assert_one_line_error "cannot resume container $ID: it is running, not paused"
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  kist pause "$ID"
  run --separate-stderr kist pause "$ID"
  assert_one_line_error "cannot pause container $ID: it is paused"
  [ "$(kist state "$ID" | jq -r .status)" = paused ]
  run --separate-stderr kist pause nosuch-$ID
  assert_one_line_error "nosuch-$ID"
  run --separate-stderr kist resume
  assert_one_line_error "missing container id"
  kist resume "$ID"
  kist kill "$ID" TERM
  wait_for_status "$ID" stopped
  run --separate-stderr kist pause "$ID"
  assert_one_line_error "cannot pause container $ID: it is stopped"
  kist delete "$ID"
}

@test "pause: delete --force of a paused container kills it and leaves no frozen cgroup" {
  start_one "$ID"
  local pid
  pid=$(kist state "$ID" | jq -r .pid)
  kist pause "$ID"
  run kist delete --force "$ID"
  assert_success
  assert_root_empty
  assert_no_cgroup "$ID"
  ! kill -0 "$pid" 2>/dev/null || grep -q ') [ZX] ' "/proc/$pid/stat"
}

@test "pause: kill --all KILL of a paused container stops it; nothing stays frozen" {
  start_one "$ID"
  kist pause "$ID"
  run kist kill --all "$ID" KILL
  assert_success
  wait_for_status "$ID" stopped
  kist delete "$ID"
  assert_no_cgroup "$ID"
}

@test "pause: kill KILL of a paused container's init stops it (the cgroup is thawed)" {
  start_one "$ID"
  kist pause "$ID"
  run kist kill "$ID" KILL
  assert_success
  wait_for_status "$ID" stopped 5
  kist delete "$ID"
  assert_no_cgroup "$ID"
}

@test "pause: TERM to a paused container waits until resume" {
  start_one "$ID"
  kist pause "$ID"
  kist kill --all "$ID" TERM
  sleep 0.3
  [ "$(kist state "$ID" | jq -r .status)" = paused ]
  kist resume "$ID"
  wait_for_status "$ID" stopped
  kist delete "$ID"
}

# The root of every cgroup hierarchy (v1 ones and the v2 tree; /sys/fs/cgroup on v2).
hier_roots() {
  local d
  if [ "$(stat -fc %T $CG)" = cgroup2fs ]; then
    echo $CG
    return
  fi
  for d in $CG/*/; do
    d=${d%/}
    [ -L "$d" ] && continue
    case $(stat -fc %T "$d") in cgroupfs | cgroup2fs) echo "$d" ;; esac
  done
}

@test "pause: a joined cgroup (not made by kist) is not frozen" {
  local path=/kistpz-$ID h
  set_config '.linux.cgroupsPath = $p' --arg p "$path"
  for h in $(hier_roots); do
    mkdir "$h$path"
    # v1 cpuset dirs start empty: give them the parent's cpus/mems.
    if [ -e "$h$path/cpuset.cpus" ] && [ "$(stat -fc %T "$h")" = cgroupfs ]; then
      cat "$h/cpuset.cpus" >"$h$path/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$path/cpuset.mems"
    fi
  done
  start_one "$ID"
  run --separate-stderr kist pause "$ID"
  assert_one_line_error "not created by kist"
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  [ "$(freezer_state "kistpz-$ID")" = THAWED ]
  # The init by pid (kist never signals a joined cgroup).
  local pid
  pid=$(kist state "$ID" | jq -r .pid)
  kill -9 "$pid"
  wait_for_status "$ID" stopped
  kist delete "$ID"
  for h in $(hier_roots); do
    for i in $(seq 50); do
      rmdir "$h$path" 2>/dev/null && break
      sleep 0.05 # the killed init may still be leaving the v2 cgroup
    done
  done
  true
}
