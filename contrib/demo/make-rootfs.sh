#!/bin/bash
# Builds a minimal busybox root filesystem in DEST from Debian's busybox-static:
# DEST/bin/busybox plus one symlink per applet, the usual empty mount points,
# and a small /etc.  Idempotent: a DEST that is already complete is left alone.
#
#   contrib/demo/make-rootfs.sh DEST        (BUSYBOX=/path/to/busybox to override)
set -euo pipefail
dest=${1:?usage: make-rootfs.sh DEST}
busybox=${BUSYBOX:-/bin/busybox}
marker=.kist-rootfs-complete

[ -e "$dest/$marker" ] && exit 0

if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-rootfs.sh: $busybox missing: apt-get install busybox-static" >&2
  exit 1
fi
# The rootfs has no libc: a dynamically linked busybox would not start in it.
if ldd "$busybox" >/dev/null 2>&1; then
  echo "make-rootfs.sh: $busybox is dynamically linked: apt-get install busybox-static" >&2
  exit 1
fi

# Build next to DEST and rename it into place, so a half-made tree is never
# mistaken for a complete one (an existing, incomplete DEST is filled in place).
if [ -e "$dest" ]; then
  work=$dest
else
  mkdir -p "$(dirname "$dest")"
  work=$(mktemp -d "$dest.tmp.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

mkdir -p "$work"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,run,var/tmp,home}
chmod 755 "$work"
chmod 1777 "$work/tmp" "$work/var/tmp"
chmod 700 "$work/root"
cp "$busybox" "$work/bin/busybox"
chmod 755 "$work/bin/busybox"
(
  cd "$work/bin"
  for applet in $(./busybox --list); do
    [ "$applet" = busybox ] || ln -sfn busybox "$applet"
  done
)
cat >"$work/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
nobody:x:65534:65534:nobody:/:/bin/false
PW
cat >"$work/etc/group" <<'GR'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
GR
echo kist >"$work/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$work/etc/hosts"
: >"$work/etc/resolv.conf"
touch "$work/$marker"

if [ "$work" != "$dest" ]; then
  trap - EXIT
  if ! mv -T "$work" "$dest" 2>/dev/null; then
    # Someone else finished first: theirs is as good as ours.
    rm -rf "$work"
    [ -e "$dest/$marker" ] || { echo "make-rootfs.sh: cannot create $dest" >&2; exit 1; }
  fi
fi
