#!/usr/bin/env bats
# CVE-2019-16884, CVE-2019-19921, CVE-2023-27561, CVE-2023-28642 and
# CVE-2025-52881 class: kist writes security-relevant files under the
# container's /proc (sysctls, oom_score_adj, LSM exec labels) and relies on
# /proc being the real procfs for masking. A rootfs or config that puts
# something else there, or hides a procfs file under a mount, must be refused;
# sysctls must really land in the kernel (through a verified procfs).

load ../helpers
load sec

setup() {
  sec_setup
}

teardown() {
  sec_teardown
}

# procfs_intact: the container reports the filesystem type of the places a
# fake /proc would replace.
# (One line: setup_bundle splits its arguments at newlines.)
PROCFS_CHECK='stat -f -c %T /proc /proc/sys /proc/sys/kernel /proc/self/attr /proc/1/attr 2>&1; stat -c %F /proc/sys/kernel/hostname 2>&1; exit 0'
PROCFS_GOOD="proc
proc
proc
proc
proc
regular empty file"

# refused_or_intact ID: `kist run` of $BUNDLE (running $PROCFS_CHECK) either
# fails with one line on stderr or shows a real procfs everywhere.
refused_or_intact() {
  run --separate-stderr kist run --bundle "$BUNDLE" "$1"
  if [ "$status" -ne 0 ]; then
    if [ "${#stderr_lines[@]}" -ne 1 ]; then
      fail "exit $status, not one line on stderr: $stderr"
      return 1
    fi
    return 0
  fi
  if [ "$output" != "$PROCFS_GOOD" ]; then
    fail "the container's /proc is not the real procfs:
$output"
    return 1
  fi
}

# ---- the rootfs's /proc is a symlink ----

@test "fake-proc: rootfs /proc -> / is refused" {
  setup_bundle true
  rmdir "$BUNDLE/rootfs/proc"
  ln -s / "$BUNDLE/rootfs/proc"
  run --separate-stderr kist run --bundle "$BUNDLE" procroot
  assert_failure
  assert_one_line_error /proc
}

@test "fake-proc: rootfs /proc -> a host-looking directory is refused" {
  setup_bundle true
  rmdir "$BUNDLE/rootfs/proc"
  mkdir -p "$BUNDLE/rootfs/run/host/proc"
  ln -s /run/host/proc "$BUNDLE/rootfs/proc"
  run --separate-stderr kist run --bundle "$BUNDLE" prochost
  assert_failure
  assert_one_line_error /proc
}

@test "fake-proc: rootfs /proc -> a climbing relative symlink is refused" {
  setup_bundle true
  rmdir "$BUNDLE/rootfs/proc"
  ln -s ../../../../../../../proc "$BUNDLE/rootfs/proc"
  run --separate-stderr kist run --bundle "$BUNDLE" procrel
  assert_failure
  assert_one_line_error /proc
}

# ---- the config mounts over procfs ----

@test "fake-proc: mounts over /proc/self/attr, /proc/sys and friends are refused" {
  setup_bundle true
  local d bad=
  for d in /proc/self/attr /proc/self/attr/apparmor /proc/thread-self/attr /proc/1/attr /proc/sys \
    /proc/sys/kernel /proc/sys/net /proc/sys/ /proc//sys /proc/self /proc/1; do
    cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/config.orig"
    set_config '.mounts += [{"destination": $d, "type": "tmpfs", "source": "tmpfs"}]' --arg d "$d"
    run --separate-stderr kist run --bundle "$BUNDLE" over
    if [ "$status" -ne 1 ] || [ "${#stderr_lines[@]}" -ne 1 ]; then
      bad="$bad
  tmpfs on $d: exit $status: $stderr"
    fi
    cp "$BATS_TEST_TMPDIR/config.orig" "$BUNDLE/config.json"
  done
  [ -z "$bad" ] || fail "not refused:$bad"
}

@test "fake-proc: a bind mount onto /proc/sys/kernel is refused" {
  setup_bundle true
  mkdir -p "$BATS_TEST_TMPDIR/fake"
  set_config '.mounts += [{"destination": "/proc/sys/kernel", "type": "bind", "source": $s, "options": ["rbind"]}]' \
    --arg s "$BATS_TEST_TMPDIR/fake"
  run --separate-stderr kist run --bundle "$BUNDLE" bindsys
  assert_one_line_error /proc/sys/kernel
}

@test "fake-proc: a host directory bound on /proc (typed \"proc\" with rbind) is refused" {
  setup_bundle true
  mkdir -p "$BATS_TEST_TMPDIR/fakeproc/sys"
  echo fake >"$BATS_TEST_TMPDIR/fakeproc/version"
  set_config '.mounts |= map(if .destination == "/proc"
      then {"destination": "/proc", "type": "proc", "source": $s, "options": ["rbind"]} else . end)' \
    --arg s "$BATS_TEST_TMPDIR/fakeproc"
  run --separate-stderr kist run --bundle "$BUNDLE" procbind
  assert_one_line_error /proc
}

# Destinations spelled so that a prefix check on "/proc/" misses them.
@test "fake-proc: unnormalised destinations (//proc/sys, /./proc/sys, /dev/../proc/sys) cannot hide procfs" {
  local d bad=
  for d in //proc/sys /./proc/sys /dev/../proc/sys /proc/./sys ///proc/self/attr /tmp/../proc/1/attr; do
    setup_bundle sh -c "$PROCFS_CHECK"
    set_config '.mounts += [{"destination": $d, "type": "tmpfs", "source": "tmpfs"}]' --arg d "$d"
    if ! refused_or_intact unnorm 2>"$BATS_TEST_TMPDIR/why"; then
      bad="$bad
  $d: $(cat "$BATS_TEST_TMPDIR/why")"
    fi
  done
  [ -z "$bad" ] || fail "procfs hidden by:$bad"
}

# The image plants symlinks at the destinations of ordinary config mounts
# (after proc is mounted, resolving them inside the rootfs lands in /proc).
@test "fake-proc: rootfs symlinks into /proc cannot redirect config mounts onto procfs" {
  local t bad=
  for t in /proc/sys /proc/sys/kernel /proc/self/attr /proc/1/attr /proc/thread-self/attr \
    ../../proc/sys; do
    setup_bundle sh -c "$PROCFS_CHECK"
    ln -s "$t" "$BUNDLE/rootfs/evil"
    set_config '.mounts += [{"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}]'
    if ! refused_or_intact symlinked 2>"$BATS_TEST_TMPDIR/why"; then
      bad="$bad
  /evil -> $t: $(cat "$BATS_TEST_TMPDIR/why")"
    fi
  done
  [ -z "$bad" ] || fail "procfs hidden through:$bad"
}

@test "fake-proc: a file bind on /etc/hostname -> /proc/sys/kernel/hostname does not cover procfs" {
  setup_bundle sh -c "$PROCFS_CHECK"
  echo evil-host >"$BATS_TEST_TMPDIR/hostname"
  rm -f "$BUNDLE/rootfs/etc/hostname"
  ln -s /proc/sys/kernel/hostname "$BUNDLE/rootfs/etc/hostname"
  set_config '.mounts += [{"destination": "/etc/hostname", "type": "bind", "source": $s, "options": ["bind", "ro"]}]' \
    --arg s "$BATS_TEST_TMPDIR/hostname"
  refused_or_intact hostfile
}

# ---- sysctls and oom_score_adj are really written ----

@test "fake-proc: sysctls are applied in the container and not on the host" {
  local fwd shm
  fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  shm=$(cat /proc/sys/kernel/shmmni)
  setup_bundle cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ping_group_range
  set_config '.linux.sysctl = {"net.ipv4.ip_forward": (if $f == "1" then "0" else "1" end),
    "kernel.shmmni": "1234", "net/ipv4/ping_group_range": "7 9"}' --arg f "$fwd"
  run --separate-stderr kist run --bundle "$BUNDLE" sysctl
  assert_success
  assert_line --index 0 "$([ "$fwd" = 1 ] && echo 0 || echo 1)"
  assert_line --index 1 1234
  assert_line --index 2 "7	9"
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ]
  [ "$(cat /proc/sys/kernel/shmmni)" = "$shm" ]
}

# readonlyPaths covers /proc/sys in the default config; kist writes through
# its own clone of the proc mount, so the values still land.
@test "fake-proc: sysctls land even where /proc/sys is read-only and the rootfs hides proc" {
  setup_bundle cat /proc/sys/kernel/shmmni
  set_config '.linux.sysctl = {"kernel.shmmni": "2345"}
    | .linux.readonlyPaths = ["/proc/sys", "/proc/sys/kernel"]'
  run --separate-stderr kist run --bundle "$BUNDLE" sysro
  assert_success
  assert_output 2345
}

@test "fake-proc: sysctls are never written into a fake /proc (a host dir bound as proc)" {
  setup_bundle true
  mkdir -p "$BATS_TEST_TMPDIR/fakeproc/sys/kernel"
  echo 4096 >"$BATS_TEST_TMPDIR/fakeproc/sys/kernel/shmmni"
  set_config '.linux.sysctl = {"kernel.shmmni": "3456"}
    | .mounts |= map(if .destination == "/proc"
      then {"destination": "/proc", "type": "bind", "source": $s, "options": ["rbind"]} else . end)' \
    --arg s "$BATS_TEST_TMPDIR/fakeproc"
  run --separate-stderr kist run --bundle "$BUNDLE" sysfake
  assert_failure
  [ "$(cat "$BATS_TEST_TMPDIR/fakeproc/sys/kernel/shmmni")" = 4096 ]
}

@test "fake-proc: oomScoreAdj is applied to the container's process" {
  setup_bundle cat /proc/self/oom_score_adj
  set_config '.process.oomScoreAdj = 321'
  run --separate-stderr kist run --bundle "$BUNDLE" oom
  assert_success
  assert_output 321
}
