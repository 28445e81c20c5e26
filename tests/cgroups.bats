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
  for ((i = ${#PREMADE[@]} - 1; i >= 0; i--)); do
    rmdir "${PREMADE[$i]}" 2>/dev/null || true
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

# Every hierarchy dir under /sys/fs/cgroup (v1 ones and the v2 tree), or "" on v2.
hierarchies() {
  local d
  if [ "$(cg_mode)" = v2 ]; then
    echo ""
    return
  fi
  for d in $CG/*/; do
    d=${d%/}
    [ -L "$d" ] && continue
    case $(stat -fc %T "$d") in cgroupfs | cgroup2fs) basename "$d" ;; esac
  done
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

# The path of the container's cgroup in hierarchy $1 (default /kist/ID).
cgdir() {
  echo "$CG/$1${2:-/kist/$ID}"
}

assert_cgfile() { # FILE EXPECTED
  local got
  got=$(cat "$1")
  if [ "$got" != "$2" ]; then
    echo "$1: got '$got', expected '$2'" >&2
    return 1
  fi
}

@test "cgroups: default path /kist/ID in every hierarchy, gone after delete" {
  start_one "$ID"
  local pid h
  pid=$(cpid "$ID")
  for h in $(hierarchies); do
    [ -d "$(cgdir "$h")" ] || { echo "missing $(cgdir "$h")" >&2; return 1; }
    grep -qx "$pid" "$(cgdir "$h")/cgroup.procs" || { echo "init not in $h" >&2; return 1; }
  done
  # /proc/PID/cgroup agrees in every hierarchy (named and unified ones too).
  run awk -F: '$3 != "/kist/'"$ID"'"' "/proc/$pid/cgroup"
  assert_output ""
  kist delete --force "$ID"
  for h in $(hierarchies); do
    [ ! -e "$(cgdir "$h")" ] || { echo "left $(cgdir "$h")" >&2; return 1; }
  done
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
  local pid ctrl own got
  pid=$(cpid "$ID")
  while IFS=: read -r _ ctrl own; do
    got=$(awk -F: -v c="$ctrl" '$2 == c { print $3 }' "/proc/$pid/cgroup")
    [ "$got" = "${own%/}/rel-$ID" ] || { echo "$ctrl: '$got' not under '$own'" >&2; return 1; }
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
  want=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$pid/cgroup")
  [[ "$want" == /kisttest.slice/*/kisttest-$ID.slice/pfx-$ID.scope ]] || {
    echo "unexpected path $want" >&2
    return 1
  }
  "$KIST" --root "$KIST_ROOT" --systemd-cgroup delete --force "$ID"
  run find $CG -maxdepth 2 -name "kisttest*.slice"
  assert_output ""
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
    run find $CG -maxdepth 3 -name "$ID"
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

@test "cgroups: kill --all reaches every process, including ones in sub-cgroups" {
  setup_bundle sh -c "sleep 1000 & sleep 1000 & $TRAPPER"
  start_one "$ID"
  local pid kids
  pid=$(cpid "$ID")
  for _ in $(seq 50); do
    [ "$(wc -l <"$(cgdir pids)/cgroup.procs" 2>/dev/null || echo 0)" -ge 3 ] && break
    sleep 0.05
  done
  kids=$(cat "$(cgdir pids)/cgroup.procs")
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
  need_v1 pids
  # The init only waits; a child shell forks without end.
  setup_bundle sh -c 'sh -c "while :; do (sleep 1000) & done" >/dev/null 2>&1 & exec sleep 1000'
  set_config '.linux.resources.pids = {"limit": 16}'
  start_one "$ID"
  local i
  for i in $(seq 100); do
    grep -q "^max [1-9]" "$(cgdir pids)/pids.events" && break
    sleep 0.05
  done
  run grep "^max" "$(cgdir pids)/pids.events"
  refute_output "max 0"
  [ "$(cat "$(cgdir pids)/pids.current")" -le 16 ]
  run kist kill --all "$ID" KILL
  assert_success
  # Empty once kill --all returns (pids.current may still count the init's zombie).
  assert_cgfile "$(cgdir pids)/cgroup.procs" ""
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
