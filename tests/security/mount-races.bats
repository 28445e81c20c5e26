#!/usr/bin/env bats
# CVE-2021-30465 class: a mount destination is a path inside the rootfs, and
# the rootfs (or a volume mounted into it) may be changed by someone else
# while kist sets the container up. A component flipped between a directory
# and a symlink to a host path between "check" and "use" must never make kist
# mount onto, create in, or otherwise touch the host path.
#
# The flips run on the host with renameat2(RENAME_EXCHANGE) (probe swap),
# about a million per second, while containers are created and deleted.

load ../helpers
load sec

ITERATIONS=${KIST_RACE_ITERATIONS:-100}

setup() {
  sec_setup
  canary_dir victim
  mkdir -p "$BATS_TEST_TMPDIR/marker"
  echo marker >"$BATS_TEST_TMPDIR/marker/file"
}

teardown() {
  sec_teardown
}

# Host mount points under the test's directories, and on "/" itself.
host_mounts() {
  awk -v t="$BATS_TEST_TMPDIR" '$5 == "/" || index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort
}

# mounts_through DIR: config mounts whose destinations all pass through DIR:
# a tmpfs two levels below (kist must mkdir through DIR), a directory bind
# and a file bind.
mounts_through() {
  set_config '.mounts += [
      {"destination": ($d + "/sub/deeper"), "type": "tmpfs", "source": "tmpfs"},
      {"destination": ($d + "/bind"), "type": "bind", "source": $m, "options": ["rbind"]},
      {"destination": ($d + "/file"), "type": "bind", "source": ($m + "/file"), "options": ["bind"]}
    ]' --arg d "$1" --arg m "$BATS_TEST_TMPDIR/marker"
}

# race ID-PREFIX: ITERATIONS containers, each created, started and deleted
# while the flipper runs; failures are allowed (the path may be a symlink at
# the moment kist looks), escapes are not.
race() {
  local i ok=0
  for i in $(seq 1 "$ITERATIONS"); do
    if kist run --bundle "$BUNDLE" "$1$i" </dev/null >/dev/null 2>&1; then
      ok=$((ok + 1))
    fi
    kist delete --force "$1$i" >/dev/null 2>&1 || true
  done
  echo "# $1: $ok of $ITERATIONS runs succeeded" >&3
}

@test "mount-races: a rootfs dir flipped with an absolute symlink to a host dir never leads mounts out" {
  setup_bundle true
  mkdir -p "$BUNDLE/rootfs/mnt/d"
  ln -s "$CANARY/victim" "$BUNDLE/rootfs/mnt/d.lnk"
  mounts_through /mnt/d
  canary_snapshot
  host_mounts >"$BATS_TEST_TMPDIR/mounts.before"
  bg_start "$PROBE" swap "$BUNDLE/rootfs/mnt" d d.lnk 600
  race abs
  bg_stop
  canary_unchanged
  host_mounts | diff "$BATS_TEST_TMPDIR/mounts.before" -
}

@test "mount-races: a rootfs dir flipped with a climbing relative symlink never leads mounts out" {
  setup_bundle true
  mkdir -p "$BUNDLE/rootfs/mnt/d"
  ln -s "../../../../../../../../../../../../..$CANARY/victim" "$BUNDLE/rootfs/mnt/d.lnk"
  mounts_through /mnt/d
  canary_snapshot
  host_mounts >"$BATS_TEST_TMPDIR/mounts.before"
  bg_start "$PROBE" swap "$BUNDLE/rootfs/mnt" d d.lnk 600
  race rel
  bg_stop
  canary_unchanged
  host_mounts | diff "$BATS_TEST_TMPDIR/mounts.before" -
}

# A volume shared with someone else (another container, a host user) is
# bound at /vol; later mounts go below it while its subdir flips.
@test "mount-races: a shared volume's subdir flipped with a host symlink never leads mounts out" {
  setup_bundle true
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol/sub"
  ln -s "$CANARY/victim" "$vol/sub.lnk"
  set_config '.mounts += [{"destination": "/vol", "type": "bind", "source": $v, "options": ["rbind"]}]' \
    --arg v "$vol"
  mounts_through /vol/sub
  canary_snapshot
  host_mounts >"$BATS_TEST_TMPDIR/mounts.before"
  bg_start "$PROBE" swap "$vol" sub sub.lnk 600
  race vol
  bg_stop
  canary_unchanged
  host_mounts | diff "$BATS_TEST_TMPDIR/mounts.before" -
}

# Without a race: the symlinks are simply there, and their targets exist in
# the rootfs too. kist must follow them inside the rootfs, and the mounts must
# be visible at the destinations inside the container.
@test "mount-races: static symlinks to host paths in the rootfs resolve inside it" {
  setup_bundle sh -c 'stat -f -c %T /mnt/abs/sub/deeper /mnt/rel/sub/deeper; cat /mnt/abs/file /mnt/rel/bind/file'
  mkdir -p "$BUNDLE/rootfs/mnt" "$BUNDLE/rootfs$CANARY/victim"
  ln -s "$CANARY/victim" "$BUNDLE/rootfs/mnt/abs"
  ln -s "../../../../../../../../../../..$CANARY/victim" "$BUNDLE/rootfs/mnt/rel"
  mounts_through /mnt/abs
  mounts_through /mnt/rel
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" static
  assert_success
  assert_output "tmpfs
tmpfs
marker
marker"
  canary_unchanged
  # What kist made went into the rootfs, under the symlink's target.
  [ -d "$BUNDLE/rootfs$CANARY/victim/sub/deeper" ]
}

# The same symlinks dangling in the rootfs (their targets exist only on the
# host): refused with one line, or mounted inside; the host is untouched.
@test "mount-races: dangling symlinks to host paths are refused or resolved inside" {
  setup_bundle true
  mkdir -p "$BUNDLE/rootfs/mnt"
  ln -s "$CANARY/victim" "$BUNDLE/rootfs/mnt/abs"
  mounts_through /mnt/abs
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" dangling
  if [ "$status" -ne 0 ]; then
    [ "${#stderr_lines[@]}" -eq 1 ] || fail "not one line: $stderr"
  fi
  canary_unchanged
}
