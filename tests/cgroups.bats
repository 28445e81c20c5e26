#!/usr/bin/env bats
# cgroups: placement (default, absolute, relative, systemd-style, joined),
# linux.resources as the kernel sees them, kill --all, and cleanup.
# Written for any layout; some checks need a v1 hierarchy or the hybrid
# unified tree and skip elsewhere.

load helpers

CG=/sys/fs/cgroup
# PID 1 of a pid namespace ignores signals it has no handler for: trap TERM.
TRAPPER='trap "exit 0" TERM; while :; do sleep 0.1; done'

setup() {
  setup_bundle sh -c "$TRAPPER"
  ID=cg$BATS_TEST_NUMBER-$$
  HOST_PIDS=()
  PREMADE=()
  SHMFILE=
}

teardown() {
  local rc=0 p d
  common_teardown || rc=1
  # Host processes this test started, by pid only.
  for p in "${HOST_PIDS[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
  for p in "${HOST_PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  [ -z "$SHMFILE" ] || rm -f "$SHMFILE"
  # cgroups this test made by hand, deepest first.
  # A killed process leaves its cgroups only once reaped: retry for 2 s.
  for ((i = ${#PREMADE[@]} - 1; i >= 0; i--)); do
    for _ in $(seq 20); do
      rmdir "${PREMADE[$i]}" 2>/dev/null || [ ! -d "${PREMADE[$i]}" ] && break
      sleep 0.1
    done
  done
  # Nothing named after this test may be left in any hierarchy.
  local left
  left=$(find $CG -maxdepth 5 -type d -name "*$ID*" 2>/dev/null)
  if [ -n "$left" ]; then
    echo "cgroups left behind:" >&2
    printf '  %s\n' $left >&2
    for d in $(echo "$left" | sort -r); do rmdir "$d" 2>/dev/null || true; done
    rc=1
  fi
  return $rc
}

# The cgroup mode as kist sees it: v2, hybrid or v1.
cg_mode() {
  if [ "$(stat -fc %T $CG)" = cgroup2fs ]; then
    echo v2
  elif [ "$(stat -fc %T $CG/unified 2>/dev/null)" = cgroup2fs ]; then
    echo hybrid
  else
    echo v1
  fi
}

need_v1() {
  [ -d "$CG/$1" ] && [ "$(stat -fc %T "$CG/$1")" = cgroupfs ] || skip "no v1 $1 hierarchy"
}

# Every hierarchy dir under /sys/fs/cgroup (v1 ones and the v2 tree), as a
# name for cgdir; "." when /sys/fs/cgroup itself is the v2 tree.
hierarchies() {
  local d
  if [ "$(cg_mode)" = v2 ]; then
    echo .
    return
  fi
  for d in $CG/*/; do
    d=${d%/}
    [ -L "$d" ] && continue
    case $(stat -fc %T "$d") in cgroupfs | cgroup2fs) basename "$d" ;; esac
  done
}

# The hierarchy holding the pids controller: "pids" (v1), "." (v2), or skip.
pids_hier() {
  if [ "$(stat -fc %T $CG/pids 2>/dev/null)" = cgroupfs ]; then
    echo pids
  elif [ "$(cg_mode)" = v2 ] && grep -qw pids $CG/cgroup.controllers; then
    echo .
  else
    skip "no pids controller"
  fi
}

kcreate() {
  "$KIST" --root "$KIST_ROOT" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null
}

start_one() {
  kcreate create --bundle "$BUNDLE" "$1"
  kist start "$1"
}

cpid() {
  kist state "$1" | jq -r .pid
}

# The path of the container's cgroup in hierarchy $1 (default /kist-ID).
cgdir() {
  echo "$CG/$1${2:-/kist-$ID}"
}

assert_cgfile() { # FILE EXPECTED
  local got
  got=$(cat "$1")
  if [ "$got" != "$2" ]; then
    echo "$1: got '$got', expected '$2'" >&2
    return 1
  fi
}

@test "cgroups: default path /kist-ID in every hierarchy, no /kist parent, gone after delete" {
  # A "kist" dir a kist before the flat default left (or a container of an
  # older kist still uses) is not ours to judge: check only where none was.
  local pid h noparent=()
  for h in $(hierarchies); do
    [ -e "$CG/$h/kist" ] || noparent+=("$CG/$h/kist")
  done
  start_one "$ID"
  pid=$(cpid "$ID")
  for h in $(hierarchies); do
    [ -d "$(cgdir "$h")" ] || { echo "missing $(cgdir "$h")" >&2; return 1; }
    grep -qx "$pid" "$(cgdir "$h")/cgroup.procs" || { echo "init not in $h" >&2; return 1; }
  done
  # /proc/PID/cgroup agrees in every hierarchy (named and unified ones too).
  run awk -F: '$3 != "/kist-'"$ID"'"' "/proc/$pid/cgroup"
  assert_output ""
  # One component made per hierarchy: the leaf, no parent.
  run awk '$1 == "dir" && ($2 != 1 || $6 != "/kist-'"$ID"'")' "$KIST_ROOT/$ID/cgroup"
  assert_output ""
  for h in "${noparent[@]}"; do
    [ ! -e "$h" ] || { echo "made $h" >&2; return 1; }
  done
  kist delete --force "$ID"
  for h in $(hierarchies); do
    [ ! -e "$(cgdir "$h")" ] || { echo "left $(cgdir "$h")" >&2; return 1; }
  done
  for h in "${noparent[@]}"; do
    [ ! -e "$h" ] || { echo "left $h" >&2; return 1; }
  done
}

# Before the init moves itself into its v1 cgroups it takes, writable, the
# pages it still shares with kist (heap, data, TLS) and the stack it will
# use: those are kist's memory until execve, not the container's.
@test "cgroups: the waiting init has no user pages charged to the container's memory cgroup" {
  [ "$(stat -fc %T $CG/memory 2>/dev/null)" = cgroupfs ] ||
    skip "no v1 memory hierarchy (on v2 the init is born in its cgroup: CLONE_INTO_CGROUP)"
  kcreate create --bundle "$BUNDLE" "$ID"
  local d
  d=$(cgdir memory)
  grep -qx "$(cpid "$ID")" "$d/cgroup.procs"
  # memory.stat folds the per-CPU counters in at most every 2 s.
  sleep 2.5
  run awk '$1 == "rss" || $1 == "cache" || $1 == "mapped_file" { print $1, $2 }' "$d/memory.stat"
  assert_output "$(printf 'cache 0\nrss 0\nmapped_file 0')"
}

@test "cgroups: absolute cgroupsPath is used under every hierarchy root, parents removed" {
  set_config '.linux.cgroupsPath = $p' --arg p "/kisttest-$ID/inner"
  start_one "$ID"
  local pid
  pid=$(cpid "$ID")
  run awk -F: '$3 != "/kisttest-'"$ID"'/inner"' "/proc/$pid/cgroup"
  assert_output ""
  kist delete --force "$ID"
  run find $CG -maxdepth 3 -name "kisttest-$ID"
  assert_output ""
}

@test "cgroups: relative cgroupsPath nests under kist's own cgroup" {
  set_config '.linux.cgroupsPath = $p' --arg p "rel-$ID"
  start_one "$ID"
  local pid ctrl own got base
  pid=$(cpid "$ID")
  while IFS=: read -r _ ctrl own; do
    got=$(awk -F: -v c="$ctrl" '$2 == c { print $3 }' "/proc/$pid/cgroup")
    # v2 (no controller list): next to kist's own cgroup, which holds kist
    # and so may not enable controllers for children.
    base=$own
    [ -n "$ctrl" ] || base=${own%/*}
    [ "$got" = "${base%/}/rel-$ID" ] || { echo "$ctrl: '$got' not under '$base'" >&2; return 1; }
  done </proc/self/cgroup
  kist delete --force "$ID"
}

@test "cgroups: --systemd-cgroup slice:prefix:name maps to the systemd cgroupfs path" {
  set_config '.linux.cgroupsPath = $p' --arg p "kisttest-$ID.slice:pfx:$ID"
  # No dashes in the slice name beyond the id's: "kisttest-cgN-PID.slice" nests.
  kcreate --systemd-cgroup create --bundle "$BUNDLE" "$ID"
  kist start "$ID"
  local pid want
  pid=$(cpid "$ID")
  want=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
  [[ "$want" == /kisttest.slice/*/kisttest-$ID.slice/pfx-$ID.scope ]] || {
    echo "unexpected path $want" >&2
    return 1
  }
  if [ ! -d /run/systemd/system ]; then
    # No systemd here: the same path through cgroupfs, and the user is told.
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --partial "--systemd-cgroup: systemd is not running here"
  fi
  "$KIST" --root "$KIST_ROOT" --systemd-cgroup delete --force "$ID"
  run find $CG -maxdepth 2 -name "kisttest*.slice"
  assert_output ""
}

@test "cgroups: --systemd-cgroup with systemd running: a transient scope with the limits as properties" {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null || skip "systemd is not PID 1 here"
  local unit=kisttest-$ID.scope
  set_config '.linux.cgroupsPath = $p
    | .linux.resources.memory = {"limit": 134217728}
    | .linux.resources.pids = {"limit": 66}
    | .annotations["org.systemd.property.TimeoutStopSec"] = "17s"
    | .annotations["org.systemd.property.CollectMode"] = "inactive-or-failed"' \
    --arg p "system.slice:kisttest:$ID"
  run kcreate --systemd-cgroup create --bundle "$BUNDLE" "$ID"
  assert_success
  run cat "$BATS_TEST_TMPDIR/err"
  refute_output --partial "not running"
  kist start "$ID"
  local pid
  pid=$(cpid "$ID")
  run cat "/proc/$pid/cgroup"
  assert_output "0::/system.slice/$unit"
  run systemctl show -p ActiveState -p Delegate -p MemoryMax -p TasksMax -p TimeoutStopUSec -p CollectMode "$unit"
  assert_line ActiveState=active
  assert_line Delegate=yes
  assert_line MemoryMax=134217728
  assert_line TasksMax=66
  assert_line TimeoutStopUSec=17s
  assert_line CollectMode=inactive-or-failed
  # kist's own values are in the files too.
  assert_cgfile "$CG/system.slice/$unit/memory.max" 134217728
  assert_cgfile "$CG/system.slice/$unit/pids.max" 66
  # update tells systemd as well.
  "$KIST" --root "$KIST_ROOT" --systemd-cgroup update --memory 256m --pids-limit 77 "$ID"
  run systemctl show -p MemoryMax -p TasksMax "$unit"
  assert_line MemoryMax=268435456
  assert_line TasksMax=77
  assert_cgfile "$CG/system.slice/$unit/memory.max" 268435456
  # A daemon-reload keeps them.
  systemctl daemon-reload
  assert_cgfile "$CG/system.slice/$unit/memory.max" 268435456
  "$KIST" --root "$KIST_ROOT" --systemd-cgroup delete --force "$ID"
  run systemctl show -p ActiveState "$unit"
  assert_output ActiveState=inactive
  [ ! -d "$CG/system.slice/$unit" ]
}

@test "cgroups: --systemd-cgroup refuses a malformed org.systemd.property annotation before creating anything" {
  set_config '.annotations["org.systemd.property.TimeoutStopSec"] = "soon"'
  run kcreate --systemd-cgroup create --bundle "$BUNDLE" "$ID"
  assert_failure
  run cat "$BATS_TEST_TMPDIR/err"
  assert_output --partial 'annotations["org.systemd.property.TimeoutStopSec"]: "soon" is not a time span'
  [ "${#lines[@]}" -eq 1 ]
  assert_root_empty
}

@test "cgroups: --systemd-cgroup refuses a cgroupsPath that is not slice:prefix:name" {
  set_config '.linux.cgroupsPath = "/not/systemd"'
  run kcreate --systemd-cgroup create --bundle "$BUNDLE" "$ID"
  assert_failure
  run cat "$BATS_TEST_TMPDIR/err"
  assert_output --partial 'linux.cgroupsPath: "/not/systemd"'
}

@test "cgroups: memory, cpu, pids, cpuset limits land in the v1 files" {
  need_v1 memory
  need_v1 cpu
  need_v1 pids
  need_v1 cpuset
  local cpus
  cpus=$(cut -d- -f1 <$CG/cpuset/cpuset.effective_cpus | cut -d, -f1)
  set_config '.linux.resources.memory = {"limit": 134217728, "reservation": 67108864, "swappiness": 17}
    | .linux.resources.cpu = {"shares": 345, "quota": 20000, "period": 100000, "cpus": $c}
    | .linux.resources.pids = {"limit": 77}' --arg c "$cpus"
  start_one "$ID"
  assert_cgfile "$(cgdir memory)/memory.limit_in_bytes" 134217728
  assert_cgfile "$(cgdir memory)/memory.soft_limit_in_bytes" 67108864
  assert_cgfile "$(cgdir memory)/memory.swappiness" 17
  assert_cgfile "$(cgdir cpu)/cpu.shares" 345
  assert_cgfile "$(cgdir cpu)/cpu.cfs_quota_us" 20000
  assert_cgfile "$(cgdir cpu)/cpu.cfs_period_us" 100000
  assert_cgfile "$(cgdir pids)/pids.max" 77
  assert_cgfile "$(cgdir cpuset)/cpuset.cpus" "$cpus"
  # mems was not configured: copied from the parent so the init could enter.
  [ -n "$(cat "$(cgdir cpuset)/cpuset.mems")" ]
  # The container sees its own limits through its cgroup mount.
  run cat "/proc/$(cpid "$ID")/root/sys/fs/cgroup/pids/pids.max"
  assert_output 77
  kist delete --force "$ID"
}

@test "cgroups: memory.swap is memory+swap (memsw) on v1" {
  need_v1 memory
  [ -e $CG/memory/memory.memsw.limit_in_bytes ] || skip "kernel without swap accounting"
  set_config '.linux.resources.memory = {"limit": 67108864, "swap": 100663296, "disableOOMKiller": true}'
  start_one "$ID"
  assert_cgfile "$(cgdir memory)/memory.memsw.limit_in_bytes" 100663296
  run grep -x "oom_kill_disable 1" "$(cgdir memory)/memory.oom_control"
  assert_success
  kist delete --force "$ID"
}

@test "cgroups: blkio throttling and weight" {
  need_v1 blkio
  local dev
  dev=$(cat /sys/block/vda/dev 2>/dev/null || cat "$(ls -d /sys/block/*/dev | grep -v -e loop -e zram -e ram | head -1)")
  [ -n "$dev" ] || skip "no block device"
  set_config '.linux.resources.blockIO = {"weight": 300,
      "throttleReadBpsDevice": [{"major": ($d|split(":")[0]|tonumber), "minor": ($d|split(":")[1]|tonumber), "rate": 1048576}],
      "throttleWriteIOPSDevice": [{"major": ($d|split(":")[0]|tonumber), "minor": ($d|split(":")[1]|tonumber), "rate": 99}]}' --arg d "$dev"
  run kcreate create --bundle "$BUNDLE" "$ID"
  if [ "$status" -ne 0 ] && grep -q "neither blkio.weight nor blkio.bfq.weight" "$BATS_TEST_TMPDIR/err"; then
    skip "no proportional-weight I/O scheduler in this kernel"
  fi
  assert_success
  assert_cgfile "$(cgdir blkio)/blkio.throttle.read_bps_device" "$dev 1048576"
  assert_cgfile "$(cgdir blkio)/blkio.throttle.write_iops_device" "$dev 99"
  local w
  w=$(cat "$(cgdir blkio)/blkio.weight" 2>/dev/null || cat "$(cgdir blkio)/blkio.bfq.weight")
  [[ "$w" == *300* ]] || { echo "weight: $w" >&2; return 1; }
  kist delete --force "$ID"
}

@test "cgroups: device rules: deny all first, the config's rules, then the standard devices" {
  need_v1 devices
  [ -b /dev/loop0 ] || skip "no /dev/loop0 to deny"
  setup_bundle sh -c 'echo x >/dev/null && echo null-ok; dd if=/loop0 of=/dev/null bs=1 count=1 2>&1; cat /proc/self/cgroup'
  set_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 4, "minor": 64, "access": "rw"}]
    | .mounts += [{"destination": "/loop0", "type": "bind", "source": "/dev/loop0", "options": ["bind"]}]'
  kcreate create --bundle "$BUNDLE" "$ID"
  run cat "$(cgdir devices)/devices.list"
  refute_line "a *:* rwm"
  assert_line "c 4:64 rw"
  assert_line "c 1:3 rwm"
  assert_line "c 136:* rwm"
  refute_line --partial "b 7:"
  kist start "$ID"
  wait_for_status "$ID" stopped
  run cat "$BATS_TEST_TMPDIR/out"
  assert_line null-ok
  assert_output --partial "Operation not permitted"
  kist delete "$ID"
}

@test "cgroups: hugepageLimits go to the hybrid unified tree" {
  [ "$(cg_mode)" = hybrid ] || skip "not a hybrid host"
  grep -qw hugetlb $CG/unified/cgroup.controllers || skip "no hugetlb on the unified tree"
  [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
  set_config '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
  start_one "$ID"
  assert_cgfile "$(cgdir unified)/hugetlb.2MB.max" 4194304
  kist delete --force "$ID"
}

@test "cgroups: unified keys for a v1-mounted controller are refused on hybrid" {
  [ "$(cg_mode)" = hybrid ] || skip "not a hybrid host"
  set_config '.linux.resources.unified = {"memory.max": "1000000"}'
  run kcreate create --bundle "$BUNDLE" "$ID"
  assert_failure
  run cat "$BATS_TEST_TMPDIR/err"
  assert_output --partial 'linux.resources.unified["memory.max"]'
  assert_output --partial "cgroup v1"
}

@test "cgroups: impossible limits fail with the field and value, leaving no cgroup" {
  local cfg
  for cfg in '.linux.resources.cpu = {"quota": 500}' \
    '.linux.resources.cpu = {"period": 10}' \
    '.linux.resources.memory = {"limit": 100000000, "swap": 50000000}' \
    '.linux.resources.cpu = {"cpus": "4095"}' \
    '.linux.resources.hugepageLimits = [{"pageSize": "3MB", "limit": 1}]' \
    '.linux.resources.network = {"classID": 7}' \
    '.linux.cgroupsPath = "/a/../../etc"'; do
    setup_bundle sh -c "$TRAPPER"
    set_config "$cfg"
    run kcreate create --bundle "$BUNDLE" "$ID"
    [ "$status" -ne 0 ] || { echo "accepted: $cfg" >&2; return 1; }
    run cat "$BATS_TEST_TMPDIR/err"
    [ "${#lines[@]}" -eq 1 ] || { echo "not one line for $cfg: $output" >&2; return 1; }
    case $cfg in
      *quota*) assert_output --partial "linux.resources.cpu.quota: 500" ;;
      *period*) assert_output --partial "linux.resources.cpu.period: 10" ;;
      *swap*) assert_output --partial "linux.resources.memory.swap: 50000000" ;;
      *cpus*) assert_output --partial "linux.resources.cpu.cpus" && assert_output --partial 4095 ;;
      *3MB*) assert_output --partial 'linux.resources.hugepageLimits[0].pageSize: "3MB"' ;;
      *classID*) assert_output --partial "linux.resources.network.classID" ;;
      *cgroupsPath*) assert_output --partial "linux.cgroupsPath" ;;
    esac
    run find $CG -maxdepth 3 -name "*$ID*"
    assert_output ""
    assert_root_empty
  done
}

@test "cgroups: a memory limit below what a joined cgroup already uses is a clear error" {
  need_v1 memory
  [ "$(wc -l </proc/swaps)" -le 1 ] || skip "swap is on: the kernel could make room"
  local path=/kistmem-$ID
  mkdir "$CG/memory$path"
  PREMADE+=("$CG/memory$path")
  # 32 MiB of tmpfs pages charged to that cgroup: unreclaimable without swap.
  SHMFILE=/dev/shm/kistmem-$ID
  sh -c 'echo $$ >"$1/cgroup.procs" && exec head -c 33554432 /dev/zero >"$2"' sh "$CG/memory$path" "$SHMFILE"
  set_config '.linux.cgroupsPath = $p | .linux.resources.memory = {"limit": 1048576}' --arg p "$path"
  run kcreate create --bundle "$BUNDLE" "$ID"
  rm -f "$SHMFILE"
  assert_failure
  run cat "$BATS_TEST_TMPDIR/err"
  assert_output --regexp "linux.resources.memory.limit: 1048576 is below the memory already in use \([0-9]+ bytes\): write $CG/memory$path/memory.limit_in_bytes: 1048576: Device or resource busy"
  [ "${#lines[@]}" -eq 1 ]
  # The joined dir stays; every dir kist made for it is gone.
  [ -d "$CG/memory$path" ]
  run find $CG -maxdepth 2 -name "kistmem-$ID" ! -path "$CG/memory/*"
  assert_output ""
  assert_root_empty
}

# containerd's `ctr run --memory-limit 4096` used to get only "the container's
# init exited during setup".
@test "cgroups: a memory limit too low for the init to start names the limit (OOM during setup)" {
  [ "$(wc -l </proc/swaps)" -le 1 ] || skip "swap is on: the init may not be OOM-killed"
  set_config '.linux.resources.memory = {"limit": 4096}'
  run kcreate create --bundle "$BUNDLE" "$ID"
  assert_failure
  run cat "$BATS_TEST_TMPDIR/err"
  assert_output "kist: the container's init was killed by the OOM killer during setup: linux.resources.memory.limit 4096 is too low"
  run find $CG -maxdepth 3 -name "*$ID*"
  assert_output ""
  assert_root_empty
}

@test "cgroups: kill --all reaches every process, including ones in sub-cgroups" {
  setup_bundle sh -c "sleep 1000 & sleep 1000 & $TRAPPER"
  start_one "$ID"
  local pid kids ph
  ph=$(hierarchies | head -1)
  pid=$(cpid "$ID")
  for _ in $(seq 50); do
    [ "$(wc -l <"$(cgdir "$ph")/cgroup.procs" 2>/dev/null || echo 0)" -ge 3 ] && break
    sleep 0.05
  done
  kids=$(cat "$(cgdir "$ph")/cgroup.procs")
  [ "$(echo "$kids" | wc -l)" -ge 3 ]
  run kist kill --all "$ID" KILL
  assert_success
  for p in $kids; do
    ! kill -0 "$p" 2>/dev/null || grep -q ') [ZX] ' "/proc/$p/stat" || {
      echo "pid $p survived kill --all" >&2
      return 1
    }
  done
  wait_for_status "$ID" stopped
  kist delete "$ID"
}

@test "cgroups: a fork bomb is contained by pids.limit and killed by kill --all" {
  local ph
  pids_hier >/dev/null
  ph=$(pids_hier)
  # The init only waits; a child shell forks without end.
  setup_bundle sh -c 'sh -c "while :; do (sleep 1000) & done" >/dev/null 2>&1 & exec sleep 1000'
  set_config '.linux.resources.pids = {"limit": 16}'
  start_one "$ID"
  local i
  for i in $(seq 100); do
    grep -q "^max [1-9]" "$(cgdir "$ph")/pids.events" && break
    sleep 0.05
  done
  run grep "^max" "$(cgdir "$ph")/pids.events"
  refute_output "max 0"
  [ "$(cat "$(cgdir "$ph")/pids.current")" -le 16 ]
  run kist kill --all "$ID" KILL
  assert_success
  # Empty once kill --all returns (pids.current may still count the init's zombie).
  assert_cgfile "$(cgdir "$ph")/cgroup.procs" ""
  wait_for_status "$ID" stopped
  kist delete "$ID"
}

@test "cgroups: a joined cgroup is never signalled nor removed by kill --all or delete --force" {
  local path=/kistjoin-$ID h sleeper
  sleep 1000 &
  sleeper=$!
  HOST_PIDS+=("$sleeper")
  for h in $(hierarchies); do
    mkdir "$CG/$h$path"
    PREMADE+=("$CG/$h$path")
    # v1 cpuset dirs start empty: give them the parent's cpus/mems.
    if [ -e "$CG/$h$path/cpuset.cpus" ] && [ "$(stat -fc %T "$CG/$h")" = cgroupfs ]; then
      cat "$CG/$h/cpuset.cpus" >"$CG/$h$path/cpuset.cpus"
      cat "$CG/$h/cpuset.mems" >"$CG/$h$path/cpuset.mems"
    fi
    echo "$sleeper" >"$CG/$h$path/cgroup.procs"
  done
  set_config '.linux.cgroupsPath = $p' --arg p "$path"
  start_one "$ID"
  HOST_PIDS+=("$(cpid "$ID")") # ended by pid in teardown should delete fail
  run kist kill --all "$ID" KILL
  assert_failure
  assert_output --partial "not created by kist"
  kill -0 "$sleeper"
  # delete --force ends the container's init by pid, not through the cgroup.
  run kist delete --force "$ID"
  assert_success
  assert_root_empty
  kill -0 "$sleeper"
  for h in $(hierarchies); do
    [ -d "$CG/$h$path" ] || { echo "joined $CG/$h$path was removed" >&2; return 1; }
  done
  grep -qx "$sleeper" "$CG/$(hierarchies | head -1)$path/cgroup.procs"
}

@test "ps: --format json lists the init and a background process; the table filters ps -ef" {
  require_command ps
  setup_bundle sh -c "sleep 1000 & $TRAPPER"
  start_one "$ID"
  local pid bg i
  pid=$(cpid "$ID")
  for i in $(seq 100); do
    bg=$(pgrep -P "$pid" -x sleep | head -1) && [ -n "$bg" ] && break
    sleep 0.05
  done
  [ -n "$bg" ]
  run kist ps --format json "$ID"
  assert_success
  echo "$output" | jq -e --argjson p "$pid" --argjson b "$bg" 'type == "array" and index($p) != null and index($b) != null'
  # Only the container's processes (the init, the background sleep and the
  # loop's short sleeps), never the host's.
  echo "$output" | jq -e 'index(1) == null and length >= 2 and length <= 4'
  run kist ps "$ID"
  assert_success
  assert_line --index 0 --regexp '^UID +PID +PPID'
  assert_line --regexp "^[^ ]+ +$pid +"
  assert_line --regexp "^[^ ]+ +$bg +$pid "
  refute_line --regexp '^[^ ]+ +1 +'
  # Extra ps arguments after --: the PID column is found by its header.
  run kist ps "$ID" -- -o comm,pid
  assert_success
  assert_line --index 0 --regexp '^COMMAND +PID'
  assert_line --regexp "^sh +$pid\$"
  assert_line --regexp "^sleep +$bg\$"
  run --separate-stderr kist ps "$ID" -- -o comm
  assert_one_line_error "no PID column"
  run --separate-stderr kist ps --format yaml "$ID"
  assert_one_line_error "--format"
  run --separate-stderr kist ps nosuch-$ID
  assert_one_line_error "nosuch-$ID"
  kist delete --force "$ID"
}

@test "events --stats: one runc-shaped JSON sample with cpu, memory, pids" {
  require_command events
  setup_bundle sh -c "sleep 1000 & i=0; while [ \$i -lt 200000 ]; do i=\$((i+1)); done; $TRAPPER"
  set_config '.linux.resources.pids = {"limit": 90} | .linux.resources.memory = {"limit": 134217728}'
  start_one "$ID"
  sleep 0.5
  run --separate-stderr kist events --stats "$ID"
  assert_success
  [ "${#lines[@]}" -eq 1 ]
  echo "$output" | jq -e --arg id "$ID" '.type == "stats" and .id == $id'
  echo "$output" | jq -e '.data.cpu.usage.total > 0 and (.data.cpu.usage.user + .data.cpu.usage.kernel) >= 0'
  echo "$output" | jq -e '.data.cpu.throttling | has("periods")'
  echo "$output" | jq -e '.data.memory.usage.usage > 0 and .data.memory.usage.limit == 134217728'
  echo "$output" | jq -e '.data.memory.raw | length > 0'
  echo "$output" | jq -e '.data.pids.current >= 2 and .data.pids.limit == 90'
  echo "$output" | jq -e '(.data.blkio | type) == "object" and (.data.hugetlb | type) == "object"'
  kist delete --force "$ID"
  run --separate-stderr kist events --stats "$ID"
  assert_one_line_error "$ID"
}

@test "events: stats every --interval until the container stops, and an oom event" {
  require_command events
  [ "$(wc -l </proc/swaps)" -le 1 ] || skip "swap is on: no OOM kill to wait for"
  # dd's 64 MiB buffer does not fit in 16 MiB: the kernel OOM-kills it.
  setup_bundle sh -c 'sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1.5'
  set_config '.linux.resources.memory = {"limit": 16777216}'
  start_one "$ID"
  run timeout 20 "$KIST" --root "$KIST_ROOT" events --interval 300ms "$ID"
  assert_success
  local stats
  stats=$(echo "$output" | jq -s '[.[] | select(.type == "stats")] | length')
  [ "$stats" -ge 4 ] || { echo "only $stats stats events: $output" >&2; return 1; }
  echo "$output" | jq -se --arg id "$ID" 'any(.[]; .type == "oom" and .id == $id)'
  [ "$(kist state "$ID" | jq -r .status)" = stopped ]
  run --separate-stderr kist events --interval 0s "$ID"
  assert_one_line_error "--interval"
  kist delete "$ID"
}

@test "cgroups: device rules as an eBPF program on the v2 tree (checked with a host process in it)" {
  local v2
  if [ "$(cg_mode)" = v2 ]; then
    v2=$CG/kist-$ID
  elif [ "$(cg_mode)" = hybrid ]; then
    v2=$CG/unified/kist-$ID
  else
    skip "no cgroup v2 tree"
  fi
  [ -c /dev/kmsg ] && [ -c /dev/console ] || skip "needs /dev/kmsg and /dev/console"
  # Last match wins, per access bit and device type: kmsg and console
  # readable, not writable; the block rule does not reach char devices.
  set_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"},
      {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "w"},
      {"allow": true, "type": "b", "access": "w"},
      {"allow": true, "type": "c", "major": 5, "access": "rw"},
      {"allow": false, "type": "c", "major": 5, "minor": 1, "access": "w"}]'
  start_one "$ID"
  [ -d "$v2" ]
  # Only the v2 program decides for this shell (on a hybrid host its v1
  # devices cgroup stays the host's).
  run sh -c 'echo $$ >"$1/cgroup.procs" || exit 9
    t() { if sh -c "$2" 2>/dev/null; then echo "$1 ok"; else echo "$1 denied"; fi; }
    t kmsg-read "exec 3</dev/kmsg"
    t kmsg-write "exec 3>>/dev/kmsg"
    t kmsg-rw "exec 3<>/dev/kmsg"
    t console-read "exec 3</dev/console"
    t console-write "exec 3>>/dev/console"
    t null-rw "exec 3<>/dev/null"
    t mknod "mknod $2 c 1 3 && rm -f $2"
    if [ -b /dev/loop0 ]; then t loop0-write "exec 3>>/dev/loop0"; t loop0-read "exec 3</dev/loop0"; fi' \
    sh "$v2" "$BATS_TEST_TMPDIR/nod"
  assert_success
  assert_line "kmsg-read ok"
  assert_line "kmsg-write denied"
  assert_line "kmsg-rw denied"
  assert_line "console-read ok"
  assert_line "console-write denied"
  assert_line "null-rw ok"
  assert_line "mknod ok"
  if [ -b /dev/loop0 ]; then
    assert_line "loop0-write ok"
    assert_line "loop0-read denied"
  fi
  kist delete --force "$ID"
}
