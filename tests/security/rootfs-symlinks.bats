#!/usr/bin/env bats
# Hostile symlinks in the image: every path kist resolves inside the rootfs
# (mount destinations, args[0], cwd) must be resolved with the rootfs as "/",
# and root.path tricks must not move the container onto the host.

load ../helpers
load sec

setup() {
  sec_setup
  canary_dir etc
  canary_file etc/hosts "127.0.0.1 host-canary"
  canary_file etc/passwd "root:x:0:0:host canary:/root:/bin/sh"
  echo "10.0.0.1 from-the-config" >"$BATS_TEST_TMPDIR/hosts"
}

teardown() {
  sec_teardown
}

# The image's /etc points at the host's (here: the canary) /etc; the config
# bind-mounts a file onto /etc/hosts, as every engine does.
@test "rootfs-symlinks: image /etc -> host /etc: a file bind on /etc/hosts stays in the rootfs" {
  setup_bundle sh -c 'cat /etc/hosts; cat /etc/passwd 2>&1 | head -n 1'
  mv "$BUNDLE/rootfs/etc" "$BUNDLE/rootfs/etc.image"
  ln -s "$CANARY/etc" "$BUNDLE/rootfs/etc"
  mkdir -p "$BUNDLE/rootfs$CANARY/etc"
  set_config '.mounts += [{"destination": "/etc/hosts", "type": "bind", "source": $s, "options": ["bind", "ro"]}]' \
    --arg s "$BATS_TEST_TMPDIR/hosts"
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" etc1
  canary_unchanged
  assert_success
  assert_line --index 0 "10.0.0.1 from-the-config"
  refute_output --partial "host canary"
}

@test "rootfs-symlinks: image /etc -> ../../../../etc (climbing) stays in the rootfs" {
  setup_bundle sh -c 'cat /etc/hosts'
  rm -rf "$BUNDLE/rootfs/etc"
  ln -s "../../../../../../../../../..$CANARY/etc" "$BUNDLE/rootfs/etc"
  mkdir -p "$BUNDLE/rootfs$CANARY/etc"
  set_config '.mounts += [{"destination": "/etc/hosts", "type": "bind", "source": $s, "options": ["bind"]}]' \
    --arg s "$BATS_TEST_TMPDIR/hosts"
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" etc2
  canary_unchanged
  assert_success
  assert_output "10.0.0.1 from-the-config"
}

# args[0] given as an absolute path that is, in the image, a symlink to a
# host program: kist must resolve it inside the rootfs (127 when missing
# there), never run the host's.
@test "rootfs-symlinks: an absolute symlink as args[0] never runs a host program" {
  printf '#!/bin/sh\ntouch %s/host-program-ran\n' "$CANARY" >"$CANARY/host-program"
  chmod 755 "$CANARY/host-program"
  setup_bundle /usr/local/bin/tool
  mkdir -p "$BUNDLE/rootfs/usr/local/bin"
  ln -s "$CANARY/host-program" "$BUNDLE/rootfs/usr/local/bin/tool"
  run -127 --separate-stderr kist run --bundle "$BUNDLE" argv1
  [ ! -e "$CANARY/host-program-ran" ] || fail "the host's program ran"

  # With the target present inside the rootfs, that one runs.
  mkdir -p "$BUNDLE/rootfs$CANARY"
  printf '#!/bin/sh\necho inside\n' >"$BUNDLE/rootfs$CANARY/host-program"
  chmod 755 "$BUNDLE/rootfs$CANARY/host-program"
  run --separate-stderr kist run --bundle "$BUNDLE" argv2
  assert_success
  assert_output inside
  [ ! -e "$CANARY/host-program-ran" ] || fail "the host's program ran"
}

@test "rootfs-symlinks: a relative args[0] through a climbing symlinked cwd stays inside" {
  printf '#!/bin/sh\ntouch %s/host-program-ran\n' "$CANARY" >"$CANARY/host-program"
  chmod 755 "$CANARY/host-program"
  setup_bundle ./host-program
  ln -s "../../../../../../../../..$CANARY" "$BUNDLE/rootfs/work"
  set_config '.process.cwd = "/work"'
  run -127 --separate-stderr kist run --bundle "$BUNDLE" argv3
  [ ! -e "$CANARY/host-program-ran" ] || fail "the host's program ran"
  assert_failure
}

# ---- root.path ----

@test "rootfs-symlinks: root.path as a symlink to another rootfs runs there, state shows the real path" {
  setup_bundle cat /which
  mv "$BUNDLE/rootfs" "$BATS_TEST_TMPDIR/real-rootfs"
  echo real >"$BATS_TEST_TMPDIR/real-rootfs/which"
  ln -s "$BATS_TEST_TMPDIR/real-rootfs" "$BUNDLE/rootfs"
  kist create --bundle "$BUNDLE" rp1 </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1
  run kist state rp1
  assert_success
  [ "$(jq -r .rootfs <<<"$output")" = "$BATS_TEST_TMPDIR/real-rootfs" ]
  # Swapping the symlink after create changes nothing for this container.
  mkdir -p "$BATS_TEST_TMPDIR/other/"
  rm "$BUNDLE/rootfs"
  ln -s "$BATS_TEST_TMPDIR/other" "$BUNDLE/rootfs"
  kist start rp1
  sleep 0.3
  run cat "$BATS_TEST_TMPDIR/out"
  assert_output real
}

@test "rootfs-symlinks: root.path naming a file, a dangling symlink or a missing dir is refused" {
  setup_bundle true
  local p
  ln -s "$BATS_TEST_TMPDIR/nowhere" "$BUNDLE/dangling"
  for p in config.json dangling missing-dir /dev/null "$CANARY/etc/hosts"; do
    set_config '.root.path = $p' --arg p "$p"
    kist_create --bundle "$BUNDLE" rp2
    assert_one_line_error root.path
    assert_root_empty
  done
}

@test "rootfs-symlinks: deleting a container never removes anything in its rootfs or bundle" {
  setup_bundle true
  find "$BUNDLE" -printf '%p %y %i\n' | sort >"$BATS_TEST_TMPDIR/bundle.before"
  kist create --bundle "$BUNDLE" del1 </dev/null >/dev/null 2>&1
  kist delete --force del1
  kist run --bundle "$BUNDLE" del2
  # mounts made mountpoints in the rootfs (dev nodes, dirs): allowed; removals are not.
  find "$BUNDLE" -printf '%p %y %i\n' | sort >"$BATS_TEST_TMPDIR/bundle.after"
  run comm -23 "$BATS_TEST_TMPDIR/bundle.before" "$BATS_TEST_TMPDIR/bundle.after"
  assert_output ""
}
