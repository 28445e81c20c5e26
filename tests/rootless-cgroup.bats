#!/usr/bin/env bats
# Rootless kist in a delegated cgroup v2 subtree (issue 13, point 2). Root
# prepares the subtree the way systemd does for Delegate=yes: a cgroup
# chowned to the test uid with its cgroup.procs, cgroup.subtree_control and
# cgroup.threads, the controllers on in the parent's subtree_control, and the
# user's process started in it (the user then moves itself to a leaf). kist
# runs as that uid (setpriv) with a `kist spec --rootless` config.
#
# Needs pure cgroup v2 and root to set it up: the VM lane's boot 1
# (tests/vm/run.sh --filter rootless-cgroup); skipped on the hybrid host.

load helpers

TUID=${KIST_DELEG_UID:-24242}
# The systemd tests' user: a real one (useradd in the guest), with a manager.
SD_USER=kistdlg
SD_UID=${KIST_DELEG_SD_UID:-24243}

setup() {
  require_root "root prepares the delegated cgroup"
  [ "$(id -u)" = 0 ] || skip "root prepares the delegated cgroup (run as root)"
  if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
    skip "needs pure cgroup v2 (this host's /sys/fs/cgroup is v1/hybrid); runs in the VM lane: tests/vm/run.sh --filter rootless-cgroup"
  fi
  command -v setpriv >/dev/null || skip "setpriv (util-linux) missing"
  ID=dlg$BATS_TEST_NUMBER-$$
  if [[ "$BATS_TEST_DESCRIPTION" == systemd:* ]]; then
    # It adds a user and starts its manager: only in a throwaway guest.
    [ "${KIST_IN_VM:-}" = systemd ] ||
      skip "adds a user and starts its systemd manager: VM lane only (tests/vm/run.sh --init=systemd --filter rootless-cgroup)"
    TUID=$SD_UID
    XDG=/run/user/$TUID
    if ! id "$SD_USER" >/dev/null 2>&1; then
      useradd -M -d /nonexistent -u "$TUID" "$SD_USER"
    fi
    make_bundle
    return 0
  fi
  local c
  for c in memory pids cpu; do
    grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control ||
      skip "the root cgroup does not enable $c for its children"
  done
  make_bundle
  XDG=$W/xdg
  mkdir -m 700 "$XDG" && chown "$TUID:$TUID" "$XDG"
  # The delegated subtree, as systemd makes it.
  DNAME=kistdlg-$ID
  D=/sys/fs/cgroup/$DNAME
  mkdir "$D"
  chown "$TUID:$TUID" "$D" "$D/cgroup.procs" "$D/cgroup.subtree_control" "$D/cgroup.threads"
  # The user's own leaf: a delegated cgroup with processes in it cannot
  # enable controllers for its children.
  LEAF=/$DNAME/leaf
  as_user "/$DNAME" mkdir "$D/leaf"
}

# make_bundle: $W (readable by $TUID) with a bundle the user owns, its config
# from `kist spec --rootless` run as the user.
make_bundle() {
  W=$(mktemp -d /tmp/kist-deleg.XXXXXX)
  chmod 755 "$W"
  # The checkout may sit where the test uid cannot reach (a mktemp -d clone
  # is 0700): it runs a copy of kist from $W.
  cp "$KIST" "$W/kist"
  chmod 755 "$W/kist"
  KIST=$W/kist
  BUNDLE=$W/bundle
  mkdir -p "$BUNDLE"
  copy_rootfs "$BUNDLE/rootfs"
  chown -R "$TUID:$TUID" "$W"
  setpriv --reuid="$TUID" --regid="$TUID" --clear-groups "$KIST" spec --rootless --bundle "$BUNDLE"
  cfg '.process.terminal = false | .process.args = ["sleep", "1000"]'
}

teardown() {
  [ -n "${W:-}" ] || return 0
  local id
  for id in "$ID" "$ID-b"; do
    if [ -n "${LEAF:-}" ]; then
      as_user "$LEAF" "$KIST" delete --force "$id" >/dev/null 2>&1 || true
    else
      sd_user "$KIST" --systemd-cgroup delete --force "$id" >/dev/null 2>&1 || true
    fi
  done
  if [ -d "${D:-}" ]; then
    # Ours: whatever a failed test left in it goes.
    echo 1 >"$D/cgroup.kill" 2>/dev/null || true
    find "$D" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    for _ in $(seq 50); do rmdir "$D" 2>/dev/null && break; sleep 0.1; done
  fi
  rm -rf "$W"
}

# as_user CGROUP CMD...: CMD as the test uid, its process placed by root in
# CGROUP (a path under /sys/fs/cgroup) first, as a service manager does.
as_user() {
  local cg=$1
  shift
  (
    echo "$BASHPID" >"/sys/fs/cgroup$cg/cgroup.procs" &&
      exec setpriv --reuid="$TUID" --regid="$TUID" --clear-groups \
        env HOME="$W" XDG_RUNTIME_DIR="$XDG" "$@"
  )
}

# sd_user CMD...: CMD as the systemd test user, from where it is (no cgroup
# move), with its manager's XDG_RUNTIME_DIR.
sd_user() {
  setpriv --reuid="$TUID" --regid="$TUID" --clear-groups env HOME="$W" XDG_RUNTIME_DIR="$XDG" "$@"
}

# sd_service CMD...: CMD as a transient service of the user's manager (so
# in user@UID.service, as in a login session), output on ours.
sd_service() {
  sd_user systemd-run --user --pipe --wait --quiet --collect -- "$@"
}

# ukist ARG...: kist as the test uid, started in its leaf of the subtree.
ukist() {
  as_user "$LEAF" "$KIST" "$@"
}

# The container's cgroup v2 path, from its init's /proc/PID/cgroup.
ccgroup() {
  local pid
  pid=$(ukist state "$1" | jq -r .pid)
  sed -n 's/^0:://p' "/proc/$pid/cgroup"
}

# cfg FILTER [JQ-OPTION...]: set_config, leaving the file readable by the user.
cfg() {
  set_config "$@" && chmod 644 "$BUNDLE/config.json"
}

limits() {
  cfg '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 64},
    cpu: {quota: 50000, period: 100000}}'
}

@test "delegated: limits in an absolute cgroupsPath; update, pause, kill --all, delete" {
  limits
  cfg '.linux.cgroupsPath = $p' --arg p "/$DNAME/ctr"
  ukist run -d --bundle "$BUNDLE" "$ID" >"$W/out" 2>&1 </dev/null || { cat "$W/out"; false; }
  run ccgroup "$ID"
  assert_output "/$DNAME/ctr"
  C=$D/ctr
  assert_equal "$(stat -c %u "$C")" "$TUID"
  assert_equal "$(cat "$C/memory.max")" 67108864
  assert_equal "$(cat "$C/pids.max")" 64
  assert_equal "$(cat "$C/cpu.max")" "50000 100000"
  # The container's processes, and only them, are in it.
  pid=$(ukist state "$ID" | jq -r .pid)
  ukist exec -d "$ID" sleep 999 >"$W/out" 2>&1 </dev/null
  for _ in $(seq 50); do [ "$(wc -l <"$C/cgroup.procs")" = 2 ] && break; sleep 0.1; done
  assert_equal "$(wc -l <"$C/cgroup.procs")" 2
  grep -qx "$pid" "$C/cgroup.procs"
  # No stray kist helper left in the leaf.
  assert_equal "$(cat "$D/leaf/cgroup.procs")" ""

  run ukist update --memory 128m --pids-limit 32 --cpu-quota 20000 "$ID"
  assert_success
  assert_equal "$(cat "$C/memory.max")" 134217728
  assert_equal "$(cat "$C/pids.max")" 32
  assert_equal "$(cat "$C/cpu.max")" "20000 100000"
  run ukist events --stats "$ID"
  assert_success
  echo "$output" | jq -e '.data.pids.current == 2 and .data.pids.limit == 32'
  echo "$output" | jq -e '.data.memory.usage.limit == 134217728'

  run ukist pause "$ID"
  assert_success
  assert_equal "$(cat "$C/cgroup.freeze")" 1
  grep -qx "frozen 1" "$C/cgroup.events"
  assert_equal "$(ukist state "$ID" | jq -r .status)" paused
  run ukist resume "$ID"
  assert_success
  assert_equal "$(cat "$C/cgroup.freeze")" 0
  assert_equal "$(ukist state "$ID" | jq -r .status)" running

  run ukist kill --all "$ID" KILL
  assert_success
  for _ in $(seq 100); do [ -z "$(cat "$C/cgroup.procs")" ] && break; sleep 0.1; done
  assert_equal "$(cat "$C/cgroup.procs")" ""
  run ukist delete "$ID"
  assert_success
  [ ! -e "$C" ]
  # The delegated parent and the user's leaf stay.
  [ -d "$D" ] && [ -d "$D/leaf" ]
  [ ! -e "$XDG/kist/$ID" ]
}

@test "delegated: a relative cgroupsPath lands next to kist's own cgroup" {
  limits
  cfg '.linux.cgroupsPath = "rel/ctr"'
  ukist run -d --bundle "$BUNDLE" "$ID" >"$W/out" 2>&1 </dev/null || { cat "$W/out"; false; }
  # kist runs in /$DNAME/leaf, which holds kist itself: cgroup v2 allows no
  # controllers below it, so the path is taken from its parent (as runc).
  run ccgroup "$ID"
  assert_output "/$DNAME/rel/ctr"
  assert_equal "$(cat "$D/rel/ctr/memory.max")" 67108864
  assert_equal "$(cat "$D/rel/ctr/pids.max")" 64
  run ukist delete --force "$ID"
  assert_success
  # Both dirs kist made go; the delegated parent stays.
  [ ! -e "$D/rel" ] && [ -d "$D/leaf" ]
}

@test "delegated: without cgroupsPath the container gets <parent of kist's cgroup>/<id>" {
  limits
  ukist run -d --bundle "$BUNDLE" "$ID" >"$W/out" 2>&1 </dev/null || { cat "$W/out"; false; }
  run ccgroup "$ID"
  assert_output "/$DNAME/$ID"
  assert_equal "$(cat "$D/$ID/pids.max")" 64
  # A second container with the same name elsewhere may not join it.
  mkdir -m 700 "$W/root2" && chown "$TUID:$TUID" "$W/root2"
  run --separate-stderr ukist --root "$W/root2" run -d --bundle "$BUNDLE" "$ID"
  assert_failure
  [[ "$stderr" == *"already holds processes"* ]]
  run ukist delete --force "$ID"
  assert_success
  [ ! -e "$D/$ID" ] && [ -d "$D/leaf" ]
}

@test "delegated, kist in the delegated cgroup itself: the error says to use a leaf" {
  limits
  rmdir "$D/leaf"
  run --separate-stderr as_user "/$DNAME" "$KIST" run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "kist runs in /$DNAME, a cgroup delegated to uid $TUID that holds kist itself"
  [[ "$stderr" == *"start kist in a leaf cgroup below /$DNAME"* ]]
  [ -z "$(ls "$XDG/kist" 2>/dev/null)" ]
  [ -z "$(find "$D" -mindepth 1 -type d)" ]
}

@test "not delegated: limits are refused with the reason, nothing left behind" {
  limits
  # kist started in a cgroup root owns, as a login session is.
  run --separate-stderr as_user / "$KIST" run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "linux.resources: the config sets"
  [[ "$stderr" == *"uid $TUID"* && "$stderr" == *"Delegate=yes"* ]]
  [ -z "$(ls "$XDG/kist" 2>/dev/null)" ]
  [ ! -e "/sys/fs/cgroup/$ID" ]
}

@test "delegated target, kist outside it: the error names the common ancestor" {
  limits
  cfg '.linux.cgroupsPath = $p' --arg p "/$DNAME/ctr"
  # kist is in the root cgroup: moving the init needs the root's cgroup.procs.
  run --separate-stderr as_user / "$KIST" run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "cannot move the container's init into cgroup /$DNAME/ctr"
  [[ "$stderr" == *"common ancestor"* && "$stderr" == *"/sys/fs/cgroup (the root)"* ]]
  [ ! -e "$D/ctr" ]
  [ -z "$(ls "$XDG/kist" 2>/dev/null)" ]
}

# ---- systemd user manager (VM lane, boot 2) ----

@test "systemd: user manager: --systemd-cgroup as a user makes a scope there with the limits" {
  limits
  systemctl start "user@$TUID.service"
  mgr=/user.slice/user-$TUID.slice/user@$TUID.service
  # kist run from a service of the user's manager, as from a login session.
  sd_service sh -c 'exec "$0" --systemd-cgroup run -d --bundle "$1" "$2" >"$3" 2>&1 </dev/null' \
    "$KIST" "$BUNDLE" "$ID" "$W/out" || { cat "$W/out"; false; }
  cat "$W/out"
  run sd_user systemctl --user show -p ActiveState -p ControlGroup -p MemoryMax -p TasksMax \
    -p Delegate "kist-$ID.scope"
  assert_success
  assert_line "ActiveState=active"
  assert_line "ControlGroup=$mgr/user.slice/kist-$ID.scope"
  assert_line "MemoryMax=67108864"
  assert_line "TasksMax=64"
  assert_line "Delegate=yes"
  C=/sys/fs/cgroup$mgr/user.slice/kist-$ID.scope
  assert_equal "$(cat "$C/memory.max")" 67108864
  assert_equal "$(cat "$C/pids.max")" 64
  assert_equal "$(cat "$C/cpu.max")" "50000 100000"
  pid=$(sd_user "$KIST" state "$ID" | jq -r .pid)
  assert_equal "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$mgr/user.slice/kist-$ID.scope"
  [ "$(stat -c %U "/proc/$pid")" = "$SD_USER" ]

  # update reaches the unit too (a daemon-reload keeps it).
  run sd_user "$KIST" --systemd-cgroup update --memory 128m "$ID"
  assert_success
  assert_equal "$(cat "$C/memory.max")" 134217728
  run sd_user systemctl --user show -p MemoryMax "kist-$ID.scope"
  assert_output "MemoryMax=134217728"
  run sd_user "$KIST" --systemd-cgroup pause "$ID"
  assert_success
  assert_equal "$(cat "$C/cgroup.freeze")" 1
  run sd_user "$KIST" --systemd-cgroup resume "$ID"
  assert_success
  assert_equal "$(cat "$C/cgroup.freeze")" 0

  run sd_user "$KIST" --systemd-cgroup delete --force "$ID"
  assert_success
  run sd_user systemctl --user show -p LoadState -p ActiveState "kist-$ID.scope"
  assert_line "ActiveState=inactive"
  [ ! -e "$C" ]
  [ -d "/sys/fs/cgroup$mgr" ]
}

@test "systemd: user manager: slice:prefix:name places the scope in that slice of the user's" {
  cfg '.linux.cgroupsPath = $p' --arg p ":kistdlg:$ID"
  systemctl start "user@$TUID.service"
  mgr=/user.slice/user-$TUID.slice/user@$TUID.service
  # This time from outside the manager's cgroup (here a system service's,
  # root's): the manager has the system manager move the init
  # (AttachProcessesToUnit), as for a login session's processes.
  sd_user "$KIST" --systemd-cgroup run -d --bundle "$BUNDLE" "$ID" >"$W/out" 2>&1 </dev/null ||
    { cat "$W/out"; false; }
  run sd_user systemctl --user show -p ActiveState -p ControlGroup "kistdlg-$ID.scope"
  assert_line "ActiveState=active"
  assert_line "ControlGroup=$mgr/user.slice/kistdlg-$ID.scope"
  pid=$(sd_user "$KIST" state "$ID" | jq -r .pid)
  assert_equal "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$mgr/user.slice/kistdlg-$ID.scope"
  run sd_user "$KIST" --systemd-cgroup delete --force "$ID"
  assert_success
  run sd_user systemctl --user show -p ActiveState "kistdlg-$ID.scope"
  assert_output "ActiveState=inactive"
}

@test "systemd: user manager: no reachable user instance is a clear error" {
  limits
  mkdir -m 700 "$W/empty" && chown "$TUID:$TUID" "$W/empty"
  run --separate-stderr sd_user env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$W/empty" \
    "$KIST" --root "$W/empty/kist" --systemd-cgroup run --bundle "$BUNDLE" "$ID"
  assert_one_line_error "--systemd-cgroup: kist runs as uid $TUID and reaches no systemd user instance"
  [[ "$stderr" == *"enable-linger"* ]]
  [ -z "$(ls "$W/empty/kist" 2>/dev/null)" ]
}
