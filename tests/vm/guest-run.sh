#!/bin/bash
# Second stage of the kist VM lane, run inside the guest (see tests/vm/run.sh).
#
#   --init=busybox  we are PID 1 on the overlay root: mount the API
#                   filesystems, run the job, power off.
#   --init=systemd  we run as kist-vm.service under systemd, which mounted
#                   everything; run the job and let the unit's
#                   SuccessAction/FailureAction power off.
#
# The job share (/run/kist-vm, writable, from the host) holds:
#   vm.conf  settings from run.sh     job      the bash script to run
#   output   <- combined stdout/stderr of the job
#   rc       <- its exit status (written last: its presence means "finished")

JOB=/run/kist-vm
MODE=busybox
case "$1" in
  --init=*) MODE=${1#--init=} ;;
esac

exec < /dev/null > /dev/console 2>&1

say () { echo "kist-vm: $*"; }

poweroff_now () {
  sync
  if [ "$MODE" = busybox ]; then
    # The sysrq is asynchronous: wait for it with builtins only (the 9p root
    # may already be gone).  panic=-1 covers PID 1 exiting anyway.
    mkfifo /run/.kist-vm-idle
    echo o > /proc/sysrq-trigger
    read -r -t 30 <> /run/.kist-vm-idle
  fi
  exit 0
}

is_mountpoint () { grep -q "^[^ ]* $1 " /proc/mounts 2> /dev/null; }

# A fresh tmpfs on /tmp, except that the host dirs listed in KIST_VM_KEEP
# (/tmp/NAME: the repository or build dir living in the host's /tmp) stay
# visible, writable through the overlay.
mount_tmp () {
  local d keep=()
  mkdir -p /run/kist-vm-keep
  for d in ${KIST_VM_KEEP:-}; do
    [ -d "$d" ] || continue
    mkdir -p "/run/kist-vm-keep/${d##*/}"
    mount --bind "$d" "/run/kist-vm-keep/${d##*/}" && keep+=("$d")
  done
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
  for d in "${keep[@]}"; do
    # bind + umount, not --move: systemd makes the mounts shared.
    mkdir -p "$d" && mount --bind "/run/kist-vm-keep/${d##*/}" "$d" \
      && umount "/run/kist-vm-keep/${d##*/}"
  done
}

mount_api () {
  is_mountpoint /proc || mount -t proc proc /proc
  is_mountpoint /sys || mount -t sysfs sysfs /sys
  is_mountpoint /dev || mount -t devtmpfs devtmpfs /dev
  mkdir -p /dev/pts /dev/shm /dev/mqueue
  is_mountpoint /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
  is_mountpoint /dev/shm || mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
  is_mountpoint /dev/mqueue || mount -t mqueue mqueue /dev/mqueue
  is_mountpoint /tmp || mount_tmp
  is_mountpoint /sys/fs/cgroup || mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
  mkdir -p /run/lock /var/tmp
  [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
  [ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
  is_mountpoint /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security 2> /dev/null
  is_mountpoint /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2> /dev/null
}

# Pure cgroup v2: give every controller to the children of the root.
enable_controllers () {
  local c ctrls=""
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    ctrls="$ctrls +$c"
  done
  [ -z "$ctrls" ] || echo "$ctrls" > /sys/fs/cgroup/cgroup.subtree_control \
    || say "cannot enable controllers:$ctrls"
}

# vm.conf: KIST_VM_* settings; job.env (below): the environment for the job.
. "$JOB/vm.conf"

# Under systemd everything but /tmp is mounted already (the guards skip it);
# the tests want /tmp to be a tmpfs in both modes.
mount_api
if [ "$MODE" = busybox ]; then
  enable_controllers
  echo kist-vm > /proc/sys/kernel/hostname
fi
ip link set lo up 2> /dev/null

export HOME=/root TERM=dumb LANG=C.UTF-8 LC_ALL=C.UTF-8 USER=root LOGNAME=root
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -r "$JOB/job.env" ] && set -a && . "$JOB/job.env" && set +a

echo; say "boot done after $(cut -d' ' -f1 /proc/uptime) s (init=$MODE, kernel $(uname -r))"
# The busybox rootfs run.sh prebuilt on the host: one copy to tmpfs (9p reads
# are slow under TCG), then every test copies it from there.
if [ -r "$JOB/rootfs.tar" ] && [ -z "${KIST_ROOTFS_CACHE:-}" ] \
  && mkdir -p /tmp/kist-rootfs-cache \
  && tar -C /tmp/kist-rootfs-cache -xpf "$JOB/rootfs.tar" \
  && [ -e /tmp/kist-rootfs-cache/.kist-rootfs-complete ]; then
  export KIST_ROOTFS_CACHE=/tmp/kist-rootfs-cache
  say "busybox rootfs unpacked at $(cut -d' ' -f1 /proc/uptime) s"
fi
echo "KIST-VM-BEGIN"
cd "${KIST_VM_CWD:-/}" || cd /
# The job is not PID 1 (a shell as PID 1 would ignore SIGTERM/SIGINT sent by
# tests); PID 1 (us) only waits for it.  The rc file is written last.
setsid -w bash "$JOB/job" 2>&1 | tee "$JOB/output"
rc=${PIPESTATUS[0]}
echo "KIST-VM-END"
echo "KIST-VM-EXIT: $rc"
echo "$rc" > "$JOB/rc.tmp" && mv "$JOB/rc.tmp" "$JOB/rc"
say "job done after $(cut -d' ' -f1 /proc/uptime) s"
poweroff_now
