#!/usr/bin/env bats
# CVE-2025-52565 class, and /dev as a symlink: the image booby-traps
# /dev/console, /dev/ptmx and /dev/pts entries with symlinks to host files,
# or makes /dev itself a symlink (to "/" or to a host directory). kist sets up
# /dev (nodes, symlinks, devpts, the terminal) before pivot_root, while a
# symlink would still resolve against the host: no host file may be created,
# truncated, written or chmod-ed. Canaries are compared by stat and hash.
#
# Also: device nodes kist makes in a directory someone else can write to (a
# shared volume) while kist works there.

load ../helpers
load sec

setup() {
  sec_setup
  canary_file console
  canary_file ptmx
  canary_file pts0
  canary_dir devdir
  canary_file devdir/null
  canary_file devdir/console
  canary_file devdir/zero
}

teardown() {
  sec_teardown
}

# run_tty ID: `kist run` in the foreground; with process.terminal kist relays
# the pty itself (stdin is not a terminal here, which kist must cope with).
run_tty() {
  run --separate-stderr timeout --kill-after=5 60 "$KIST" --root "$KIST_ROOT" run --bundle "$BUNDLE" "$1" </dev/null
}

console_traps() {
  mkdir -p "$BUNDLE/rootfs/dev/pts"
  ln -sf "$CANARY/console" "$BUNDLE/rootfs/dev/console"
  ln -sf "$CANARY/ptmx" "$BUNDLE/rootfs/dev/ptmx"
  ln -sf "$CANARY/pts0" "$BUNDLE/rootfs/dev/pts/0"
  ln -sf "$CANARY/pts-ptmx" "$BUNDLE/rootfs/dev/pts/ptmx"
  ln -sf "$CANARY/new-tty" "$BUNDLE/rootfs/dev/tty"
}

TTY_SCRIPT='tty; echo console > /dev/console; echo tty > /dev/tty; ls -l /dev/ptmx; exit 0'

@test "dev-console: booby-trapped /dev/console, /dev/ptmx, /dev/pts with a terminal touch no host file" {
  setup_bundle sh -c "$TTY_SCRIPT"
  no_dev_mount
  set_config '.process.terminal = true'
  console_traps
  canary_snapshot
  run_tty console1
  canary_unchanged
  assert_success
  # The process got a pty of the container's own devpts.
  assert_line --partial /dev/pts/
}

@test "dev-console: the same traps without a terminal touch no host file" {
  setup_bundle sh -c "$TTY_SCRIPT"
  no_dev_mount
  console_traps
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" console2
  canary_unchanged
}

@test "dev-console: the same traps under the config's /dev tmpfs touch no host file" {
  setup_bundle sh -c "$TTY_SCRIPT"
  set_config '.process.terminal = true'
  console_traps
  canary_snapshot
  run_tty console3
  canary_unchanged
  assert_success
}

# Mount points of the config's own /dev mounts as symlinks to host dirs
# (existing and missing): a dangling one is refused, an existing one is
# followed inside the rootfs; the host dirs stay as they are.
@test "dev-console: image /dev/shm and /dev/mqueue -> host dirs: refused or kept inside" {
  local target
  for target in "$CANARY/devdir" "$CANARY/new-dir"; do
    setup_bundle true
    no_dev_mount
    mkdir -p "$BUNDLE/rootfs/dev"
    ln -sfn "$target" "$BUNDLE/rootfs/dev/shm"
    ln -sfn "$target" "$BUNDLE/rootfs/dev/mqueue"
    canary_snapshot
    run --separate-stderr kist run --bundle "$BUNDLE" shm
    check_dev_result shm
    [ ! -e "$CANARY/new-dir" ]
  done
}

# dev_symlink TARGET: the image's /dev is a symlink.
dev_symlink() {
  rm -rf "$BUNDLE/rootfs/dev"
  ln -s "$1" "$BUNDLE/rootfs/dev"
}

# check_dev_result ID: refused with one line, or ran; the host untouched,
# nothing left behind.
check_dev_result() {
  canary_unchanged
  if [ "$status" -ne 0 ] && [ "${#stderr_lines[@]}" -gt 1 ]; then
    # More than one line is fine only when it is the container's own output.
    [[ "${stderr_lines[-1]}" != kist:* ]] || fail "$1: $stderr"
  fi
  [ -c /dev/null ] || fail "the host's /dev/null is no longer a device"
}

@test "dev-console: image /dev -> / (with the config's /dev tmpfs) touches no host file" {
  setup_bundle true
  dev_symlink /
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" devroot1
  check_dev_result devroot1
}

@test "dev-console: image /dev -> / (no /dev tmpfs, terminal) touches no host file" {
  setup_bundle sh -c "$TTY_SCRIPT"
  no_dev_mount
  set_config '.process.terminal = true'
  dev_symlink /
  canary_snapshot
  run_tty devroot2
  check_dev_result devroot2
}

@test "dev-console: image /dev -> a host dir of canaries touches none of them" {
  local keep
  for keep in no-tmpfs tmpfs; do
    setup_bundle sh -c "$TTY_SCRIPT"
    [ "$keep" = tmpfs ] || no_dev_mount
    set_config '.process.terminal = true'
    dev_symlink "$CANARY/devdir"
    canary_snapshot
    run_tty "devhost-$keep"
    check_dev_result "devhost-$keep"
  done
}

@test "dev-console: image /dev -> a climbing relative path to host canaries touches none of them" {
  setup_bundle sh -c "$TTY_SCRIPT"
  no_dev_mount
  dev_symlink "../../../../../../../../..$CANARY/devdir"
  canary_snapshot
  run --separate-stderr kist run --bundle "$BUNDLE" devrel
  check_dev_result devrel
}

# linux.devices in a directory shared with someone else (a volume another
# container can write): between kist making the node and setting its mode,
# the other side replaces it with a symlink to a host file. kist must never
# chmod (or chown) the host file through that symlink.

# The deterministic form: strace holds every fchmodat(2) for 0.3 s at entry,
# and a watcher replaces the node as soon as it exists. (Without strace's
# syscall delay injection, the flipper below is the test.)
@test "dev-console: a device node made in a shared volume cannot be replaced by a host symlink (held syscall)" {
  setup_bundle true
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  canary_file victim
  set_config '.mounts += [{"destination": "/vol", "type": "bind", "source": $v, "options": ["rbind"]}]
    | .linux.devices = [{"path": "/vol/dev0", "type": "c", "major": 1, "minor": 3,
                         "fileMode": 438, "uid": 0, "gid": 0}]' --arg v "$vol"
  canary_snapshot
  if ! strace -f -qq -o /dev/null -e trace=fchmodat -e inject=fchmodat:delay_enter=1000 true 2>/dev/null; then
    flip_devices "$vol"
    return
  fi
  # shellcheck disable=SC2016
  bg_start bash -c 'for i in $(seq 1 20000); do
      if [ -c "$1/dev0" ]; then ln -s "$2" "$1/t.lnk" && mv -T "$1/t.lnk" "$1/dev0"; exit; fi
      sleep 0.001; done' _ "$vol" "$CANARY/victim"
  strace -f -qq -o /dev/null -e trace=fchmodat -e inject=fchmodat:delay_enter=300000 \
    "$KIST" --root "$KIST_ROOT" run --bundle "$BUNDLE" node </dev/null >/dev/null 2>&1 || true
  bg_stop
  [ -L "$vol/dev0" ] || fail "the watcher never saw the node (test setup)"
  canary_unchanged
}

# flip_devices VOL: the realistic form: creates and deletes containers while
# a flipper replaces VOL/dev0 with a symlink (unlink + symlink, about a
# million times a second), until the canary changes or 400 creates passed.
# The race usually shows within 100 creates, less often on a loaded host.
flip_devices() {
  local vol=$1 i ok=0
  bg_start "$PROBE" relink "$vol/dev0" "$CANARY/victim" 600
  for i in $(seq 1 "${KIST_RACE_ITERATIONS:-400}"); do
    if kist run --bundle "$BUNDLE" "node$i" </dev/null >/dev/null 2>&1; then
      ok=$((ok + 1))
    fi
    kist delete --force "node$i" >/dev/null 2>&1 || true
    [ "$(stat -c %a "$CANARY/victim")" = 600 ] || break
  done
  bg_stop
  echo "# $ok of $i runs succeeded" >&3
  canary_unchanged
}

@test "dev-console: a device node made in a shared volume cannot be swapped for a host file's symlink (race)" {
  setup_bundle true
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  canary_file victim
  set_config '.mounts += [{"destination": "/vol", "type": "bind", "source": $v, "options": ["rbind"]}]
    | .linux.devices = [{"path": "/vol/dev0", "type": "c", "major": 1, "minor": 3,
                         "fileMode": 438, "uid": 0, "gid": 0}]' --arg v "$vol"
  canary_snapshot
  flip_devices "$vol"
}

# A host directory bound as the container's /dev is the config's choice: kist
# must then leave it alone (no nodes, no /dev/ptmx replaced), however the
# destination is spelled.
@test "dev-console: a host dir bound on /dev (spelled //dev, /dev/., /./dev) is left untouched" {
  local d bad=
  canary_dir hostdev
  canary_file hostdev/ptmx
  canary_file hostdev/null
  canary_snapshot
  for d in /dev //dev /dev/. /./dev /tmp/../dev; do
    setup_bundle true
    set_config 'del(.mounts[] | select(.destination | startswith("/dev")))
      | .mounts += [{"destination": $d, "type": "bind", "source": $s, "options": ["rbind"]}]' \
      --arg d "$d" --arg s "$CANARY/hostdev"
    kist run --bundle "$BUNDLE" sec-devbind </dev/null >/dev/null 2>&1 || true
    kist delete --force sec-devbind >/dev/null 2>&1 || true
    canary_state >"$BATS_TEST_TMPDIR/canary.now"
    diff -q "$BATS_TEST_TMPDIR/canary.before" "$BATS_TEST_TMPDIR/canary.now" >/dev/null ||
      bad="$bad $d"
  done
  [ -z "$bad" ] || fail "the host dir bound on /dev changed with:$bad"
  canary_unchanged
}

# In a user namespace device nodes cannot be made, so kist binds the host's
# node at the same path: only if it is that device, never a host file that
# happens to live at the path the config names.
@test "dev-console: in a user namespace, a linux.devices path naming a host file does not bring it in" {
  canary_file secret
  chmod 644 "$CANARY/secret"
  setup_bundle cat "$CANARY/secret"
  userns_bundle
  set_config '.linux.devices = [{"path": $p, "type": "c", "major": 1, "minor": 3, "fileMode": 438}]' \
    --arg p "$CANARY/secret"
  run --separate-stderr kist run --bundle "$BUNDLE" sec-devhost
  refute_output --partial canary
  assert_failure
  assert_one_line_error secret
}

@test "dev-console: in a user namespace, linux.devices fifos and the host's real nodes work" {
  setup_bundle sh -c 'stat -c "%F %t:%T" /dev/sec-fifo /dev/sec-null'
  userns_bundle
  set_config '.linux.devices = [{"path": "/dev/sec-fifo", "type": "p", "fileMode": 420},
    {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438}]
    | .mounts += [{"destination": "/dev/sec-null", "type": "bind", "source": "/dev/null", "options": ["bind"]}]'
  run --separate-stderr kist run --bundle "$BUNDLE" sec-devfifo
  assert_success
  assert_line --index 0 "fifo 0:0"
  assert_line --index 1 "character special file 1:3"
}
