#!/usr/bin/env bats
# CVE-2025-31133 class: maskedPaths are made by bind-mounting /dev/null over a
# file (and an empty read-only tmpfs over a directory). The rootfs's own
# /dev/null is image-controlled: a symlink to a host file (or to a procfs
# file), a regular file, a directory, a fifo or nothing at all. Whatever it
# is, masking must still hold (a masked file reads empty), the container's
# /dev/null must end up the real device, and nothing on the host is touched.
#
# The config here has no tmpfs on /dev, so the rootfs's /dev is the one kist
# populates.

load ../helpers
load sec

setup() {
  sec_setup
  canary_file hostfile
}

teardown() {
  sec_teardown
}

MASK_CHECK='cat /etc/masked-file /proc/keys /proc/timer_list 2>&1 | wc -c; ls -A /etc/masked-dir | wc -l; stat -c "%F %t,%T" /dev/null; echo scribble > /etc/masked-file; cat /etc/masked-file | wc -c'
MASK_GOOD="0
0
character special file 1,3
0"

# masked_bundle [keep-dev]: masks a rootfs file, a rootfs dir and two procfs
# files; without keep-dev the config's /dev tmpfs is dropped.
masked_bundle() {
  setup_bundle sh -c "$MASK_CHECK"
  [ "${1:-}" = keep-dev ] || no_dev_mount
  echo "image secret" >"$BUNDLE/rootfs/etc/masked-file"
  mkdir -p "$BUNDLE/rootfs/etc/masked-dir"
  echo "image secret" >"$BUNDLE/rootfs/etc/masked-dir/inside"
  set_config '.linux.maskedPaths += ["/etc/masked-file", "/etc/masked-dir", "/proc/keys", "/proc/timer_list"]'
}

# dev_null_variant KIND: makes the rootfs's /dev/null one of the hostile kinds.
dev_null_variant() {
  local null=$BUNDLE/rootfs/dev/null
  mkdir -p "$BUNDLE/rootfs/dev"
  rm -rf "$null"
  case $1 in
  symlink-host) ln -s "$CANARY/hostfile" "$null" ;;
  symlink-missing) ln -s "$CANARY/created-by-kist" "$null" ;;
  symlink-proc) ln -s /proc/sys/kernel/core_pattern "$null" ;;
  symlink-relative) ln -s "../../../../../../../..$CANARY/hostfile" "$null" ;;
  regular) echo "not a device" >"$null" ;;
  directory) mkdir "$null" && echo x >"$null/x" ;;
  fifo) mkfifo "$null" ;;
  missing) ;;
  esac
}

# check_masking ID: runs the bundle; masks hold and the host is untouched.
# With allow_refusal set, a one-line refusal is accepted too.
check_masking() {
  local id=$1 allow_refusal=${2:-}
  run --separate-stderr timeout --kill-after=5 30 "$KIST" --root "$KIST_ROOT" run --bundle "$BUNDLE" "$id"
  canary_unchanged
  [ -c /dev/null ] || fail "the host's /dev/null is no longer a device"
  if [ "$status" -ne 0 ] && [ -n "$allow_refusal" ] && [ "${#stderr_lines[@]}" -eq 1 ]; then
    return 0
  fi
  [ "$status" -eq 0 ] || fail "$id: exit $status: $stderr"
  [ "$output" = "$MASK_GOOD" ] || fail "$id: masking does not hold:
$output"
}

@test "dev-null: rootfs /dev/null -> host file: masks hold, host file untouched" {
  masked_bundle
  dev_null_variant symlink-host
  canary_snapshot
  check_masking null1
}

@test "dev-null: rootfs /dev/null -> missing host path: nothing created on the host" {
  masked_bundle
  dev_null_variant symlink-missing
  canary_snapshot
  check_masking null2
  [ ! -e "$CANARY/created-by-kist" ]
}

@test "dev-null: rootfs /dev/null -> /proc/sys/kernel/core_pattern: masks hold" {
  masked_bundle
  dev_null_variant symlink-proc
  local before
  before=$(cat /proc/sys/kernel/core_pattern)
  canary_snapshot
  check_masking null3
  [ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
}

@test "dev-null: rootfs /dev/null -> climbing relative symlink: masks hold" {
  masked_bundle
  dev_null_variant symlink-relative
  canary_snapshot
  check_masking null4
}

@test "dev-null: rootfs /dev/null as a regular file, a fifo, or missing: masks hold" {
  local kind
  for kind in regular fifo missing; do
    masked_bundle
    dev_null_variant "$kind"
    canary_snapshot
    check_masking "null-$kind"
  done
}

# A directory cannot become a device node without removing image content:
# a clean refusal is fine.
@test "dev-null: rootfs /dev/null as a directory: refused with one line, or masked" {
  masked_bundle
  dev_null_variant directory
  canary_snapshot
  check_masking null-dir allow-refusal
}

# In a user namespace kist cannot mknod: it binds the host's nodes instead.

@test "dev-null: in a user namespace, hostile /dev/null symlinks are refused or masked" {
  local kind
  for kind in symlink-host symlink-missing symlink-proc symlink-relative directory; do
    masked_bundle
    dev_null_variant "$kind"
    userns_bundle
    canary_snapshot
    check_masking "usernull-$kind" allow-refusal
    [ ! -e "$CANARY/created-by-kist" ]
  done
}

@test "dev-null: in a user namespace, /dev/null as a regular file or missing: masks hold" {
  local kind
  for kind in regular missing; do
    masked_bundle
    dev_null_variant "$kind"
    userns_bundle
    canary_snapshot
    check_masking "usernull-$kind"
  done
}

# kist binds the host's /dev/null over the image's node: opening a fifo there
# for writing would block for ever (and the init, pid 1 of its namespace,
# ignores the SIGTERM `run` forwards). It must be refused or replaced, fast.
@test "dev-null: in a user namespace, /dev/null as a fifo does not hang kist" {
  masked_bundle
  dev_null_variant fifo
  userns_bundle
  canary_snapshot
  check_masking usernull-fifo allow-refusal
}

# The default config (tmpfs on /dev) for reference: the image's /dev is
# hidden, and the masks hold.
@test "dev-null: with the default /dev tmpfs, masks hold" {
  masked_bundle keep-dev
  dev_null_variant symlink-host
  canary_snapshot
  check_masking null-default
}
