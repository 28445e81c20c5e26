#!/usr/bin/env bats
# kist update: runc's flags and --resources JSON (file or stdin, as
# containerd sends it), live limits as the kernel sees them, merging into
# the saved config, and all-or-nothing failures.

load helpers

CG=/sys/fs/cgroup
TRAPPER='trap "exit 0" TERM; while :; do sleep 0.1; done'

setup() {
  require_command update
  setup_bundle sh -c "$TRAPPER"
  ID=up$BATS_TEST_NUMBER-$$
}

teardown() {
  local rc=0 d
  common_teardown || rc=1
  for d in $(find $CG -maxdepth 5 -type d -name "*$ID*" 2>/dev/null | sort -r); do
    echo "cgroup left behind: $d" >&2
    rmdir "$d" 2>/dev/null || true
    rc=1
  done
  return $rc
}

start_one() {
  "$KIST" --root "$KIST_ROOT" create --bundle "$BUNDLE" "$1" >/dev/null 2>&1 </dev/null
  kist start "$1"
}

# cgfile CONTROLLER V1FILE V2FILE: the container's file for that controller,
# in its v1 hierarchy when mounted, else in the v2 tree.
cgfile() {
  if [ "$(stat -fc %T "$CG/$1" 2>/dev/null)" = cgroupfs ]; then
    echo "$CG/$1/kist-$ID/$2"
  elif [ "$(stat -fc %T $CG)" = cgroup2fs ]; then
    echo "$CG/kist-$ID/$3"
  else
    echo "$CG/unified/kist-$ID/$3"
  fi
}

is_v1() {
  [ "$(stat -fc %T "$CG/$1" 2>/dev/null)" = cgroupfs ]
}

mem_limit() { cat "$(cgfile memory memory.limit_in_bytes memory.max)"; }
pids_max() { cat "$(cgfile pids pids.max pids.max)"; }
# "QUOTA PERIOD" on either version.
cpu_max() {
  if is_v1 cpu; then
    echo "$(cat "$(cgfile cpu cpu.cfs_quota_us x)") $(cat "$(cgfile cpu cpu.cfs_period_us x)")"
  else
    cat "$(cgfile cpu x cpu.max)"
  fi
}

saved_resources() {
  jq -c "$1" "$KIST_ROOT/$ID/config.json"
}

@test "update: flags change memory, cpu and pids limits live" {
  start_one "$ID"
  run kist update --memory 100m --cpu-quota 20000 --cpu-period 100000 --pids-limit 50 "$ID"
  assert_success
  assert_output ""
  [ "$(mem_limit)" = 104857600 ]
  [ "$(cpu_max)" = "20000 100000" ]
  [ "$(pids_max)" = 50 ]
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  # Saved: a later update changes one limit and keeps the others.
  [ "$(saved_resources .linux.resources.memory.limit)" = 104857600 ]
  kist update --pids-limit 60 "$ID"
  [ "$(pids_max)" = 60 ]
  [ "$(mem_limit)" = 104857600 ]
  [ "$(cpu_max)" = "20000 100000" ]
  # -1: unlimited again.
  kist update --memory -1 --pids-limit -1 "$ID"
  [ "$(pids_max)" = max ]
  run mem_limit
  [[ "$output" = max || "$output" -gt 1000000000000 ]]
  kist delete --force "$ID"
}

@test "update: sizes take runc's suffixes (k, m, g, kb, MiB, fractions)" {
  start_one "$ID"
  local size want
  for size in 64m:67108864 1g:1073741824 65536k:67108864 96MiB:100663296 1.5g:1610612736 \
    268435456:268435456 128mb:134217728; do
    want=${size#*:}
    kist update --memory "${size%%:*}" "$ID"
    [ "$(mem_limit)" = "$want" ] || { echo "$size: got $(mem_limit)" >&2; return 1; }
  done
  run --separate-stderr kist update --memory 12q "$ID"
  assert_one_line_error "--memory: '12q' is not a size"
  [ "$(mem_limit)" = 134217728 ]
  kist delete --force "$ID"
}

@test "update: --memory-reservation, --cpu-shares, --cpuset-cpus, --blkio-weight" {
  start_one "$ID"
  local cpu
  cpu=$(cut -d- -f1 <"$(cgfile cpuset cpuset.effective_cpus cpuset.cpus.effective)" | cut -d, -f1)
  kist update --memory 200m --memory-reservation 64m --cpu-shares 512 --cpuset-cpus "$cpu" "$ID"
  [ "$(cat "$(cgfile memory memory.soft_limit_in_bytes memory.low)")" = 67108864 ]
  if is_v1 cpu; then
    [ "$(cat "$(cgfile cpu cpu.shares x)")" = 512 ]
  else
    [ "$(cat "$(cgfile cpu x cpu.weight)")" = 20 ]
  fi
  [ "$(cat "$(cgfile cpuset cpuset.cpus cpuset.cpus)")" = "$cpu" ]
  run --separate-stderr kist update --blkio-weight 300 "$ID"
  if [ "$status" -eq 0 ]; then
    local bfq
    bfq=$(cgfile blkio blkio.bfq.weight io.bfq.weight)
    if is_v1 blkio; then
      grep -q 300 "$(cgfile blkio blkio.weight x)" 2>/dev/null || grep -q 300 "$bfq"
    elif [ -e "$bfq" ]; then
      grep -q 300 "$bfq" # BFQ takes the v1 range
    else
      grep -qx "default 2930" "$(cgfile blkio x io.weight)" # 10..1000 → 1..10000
    fi
  else
    # No proportional-weight scheduler here: a clear error, nothing changed.
    assert_one_line_error "resources.blockIO.weight"
  fi
  [ "$(mem_limit)" = 209715200 ]
  kist delete --force "$ID"
}

@test "update: --resources - reads LinuxResources JSON from stdin (zeros keep the old value)" {
  start_one "$ID"
  kist update --memory 100m --pids-limit 40 "$ID"
  # What containerd writes: every field, unset ones as 0 or "".
  run kist update --resources - "$ID" <<'JSON'
{"memory": {"limit": 209715200, "reservation": 0, "swap": 0, "kernel": 0},
 "cpu": {"shares": 0, "quota": 30000, "period": 100000, "realtimeRuntime": 0,
         "realtimePeriod": 0, "cpus": "", "mems": ""},
 "blockIO": {}, "pids": {"limit": 0}, "devices": [{"allow": true, "access": "rwm"}]}
JSON
  assert_success
  [ "$(mem_limit)" = 209715200 ]
  [ "$(cpu_max)" = "30000 100000" ]
  [ "$(pids_max)" = 40 ]
  # Device rules are not updated (as runc): the saved ones stay.
  [ "$(saved_resources '.linux.resources.devices[0].allow')" = false ]
  # A file works the same.
  echo '{"pids": {"limit": 33}}' >"$BATS_TEST_TMPDIR/res.json"
  kist update -r "$BATS_TEST_TMPDIR/res.json" "$ID"
  [ "$(pids_max)" = 33 ]
  kist delete --force "$ID"
}

@test "update: JSON errors are one line naming the field and position, nothing changes" {
  start_one "$ID"
  kist update --pids-limit 40 "$ID"
  run --separate-stderr kist update -r - "$ID" <<'JSON'
{"pids": {"limit": 50},
 "memory": {"limit": "lots"}}
JSON
  assert_one_line_error 'stdin:2:22: resources.memory.limit: '
  run --separate-stderr kist update -r - "$ID" <<<'{"cpu": {"shares": -5}}'
  assert_one_line_error "resources.cpu.shares"
  run --separate-stderr kist update -r - "$ID" <<<'{"pids": {"limit": 1}'
  assert_one_line_error "stdin:"
  run --separate-stderr kist update -r - "$ID" <<<'[1, 2]'
  assert_one_line_error "resources: expected an object"
  run --separate-stderr kist update -r - "$ID" <<<'{"memory": {"limit": 100000000, "swap": 50000000}}'
  assert_one_line_error "resources.memory.swap: 50000000 is below memory.limit"
  run --separate-stderr kist update -r /nonexistent/res.json "$ID"
  assert_one_line_error "/nonexistent/res.json"
  [ "$(pids_max)" = 40 ]
  kist delete --force "$ID"
}

@test "update: a failing update puts every value it wrote back" {
  [ -e "$(cgfile memory x memory.max | sed 's|/memory.max$||')/cgroup.max.depth" ] ||
    [ -d $CG/unified ] || [ "$(stat -fc %T $CG)" = cgroup2fs ] || skip "no cgroup v2 tree"
  start_one "$ID"
  kist update --memory 100m --pids-limit 40 "$ID"
  local v2dir
  v2dir=$CG/kist-$ID
  [ -d "$v2dir" ] || v2dir=$CG/unified/kist-$ID
  local depth
  depth=$(cat "$v2dir/cgroup.max.depth")
  # memory and pids are written first, the unified key last, and it fails.
  run --separate-stderr kist update -r - "$ID" <<'JSON'
{"memory": {"limit": 209715200}, "pids": {"limit": 77},
 "unified": {"cgroup.max.depth": "lots"}}
JSON
  assert_one_line_error 'resources.unified["cgroup.max.depth"]: write '
  [ "$(mem_limit)" = 104857600 ]
  [ "$(pids_max)" = 40 ]
  [ "$(cat "$v2dir/cgroup.max.depth")" = "$depth" ]
  [ "$(saved_resources .linux.resources.pids.limit)" = 40 ]
  kist delete --force "$ID"
}

@test "update: a cpuset the parent does not allow fails with the field, nothing changes" {
  start_one "$ID"
  kist update --pids-limit 40 "$ID"
  local before
  before=$(cat "$(cgfile cpuset cpuset.cpus cpuset.cpus)")
  run --separate-stderr kist update --pids-limit 41 --cpuset-cpus 4095 "$ID"
  assert_one_line_error "resources.cpu.cpus: write "
  [ "$(cat "$(cgfile cpuset cpuset.cpus cpuset.cpus)")" = "$before" ]
  [ "$(pids_max)" = 40 ]
  run --separate-stderr kist update --cpuset-cpus 'a;b' "$ID"
  assert_one_line_error "--cpuset-cpus: 'a;b' is not a list"
  kist delete --force "$ID"
}

@test "update: a memory limit below the usage is refused (v1: the kernel; v2: checkBeforeUpdate)" {
  [ "$(wc -l </proc/swaps)" -le 1 ] || skip "swap is on: the kernel could make room"
  # 16 MiB of tmpfs pages in the container, charged to its cgroup.
  setup_bundle sh -c "head -c 16777216 /dev/zero >/dev/shm/fill; $TRAPPER"
  start_one "$ID"
  local i pid
  pid=$(kist state "$ID" | jq -r .pid)
  for i in $(seq 100); do
    [ "$(stat -c %s "/proc/$pid/root/dev/shm/fill" 2>/dev/null)" = 16777216 ] && break
    sleep 0.05
  done
  kist update --memory 100m "$ID"
  if is_v1 memory; then
    run --separate-stderr kist update --memory 4m "$ID"
    assert_one_line_error "resources.memory.limit: 4194304 is below the memory already in use"
  else
    run --separate-stderr kist update -r - "$ID" <<<'{"memory": {"limit": 4194304, "checkBeforeUpdate": true}}'
    assert_one_line_error "resources.memory.limit: 4194304 is below the memory in use"
  fi
  [ "$(mem_limit)" = 104857600 ]
  [ "$(kist state "$ID" | jq -r .status)" = running ]
  kist delete --force "$ID"
}

@test "update: unsupported and deprecated flags; wrong states" {
  start_one "$ID"
  run --separate-stderr kist update --l3-cache-schema "L3:0=f" "$ID"
  assert_one_line_error "Intel RDT"
  run --separate-stderr kist update --mem-bw-schema "MB:0=70" "$ID"
  assert_one_line_error "Intel RDT"
  run --separate-stderr kist update --kernel-memory 100m --pids-limit 20 "$ID"
  assert_success
  [[ "$stderr" == *"--kernel-memory is ignored"* ]]
  [ "$(pids_max)" = 20 ]
  run --separate-stderr kist update "$ID"
  assert_one_line_error "nothing to update"
  run --separate-stderr kist update -r - --pids-limit 3 "$ID" <<<'{}'
  assert_one_line_error "--resources cannot be combined with --pids-limit"
  run --separate-stderr kist update --pids-limit 3 nosuch-$ID
  assert_one_line_error "nosuch-$ID"
  kist kill "$ID" TERM
  wait_for_status "$ID" stopped
  run --separate-stderr kist update --pids-limit 3 "$ID"
  assert_one_line_error "cannot update container $ID: it is stopped"
  kist delete "$ID"
}
