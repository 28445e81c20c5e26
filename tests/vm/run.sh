#!/bin/bash
# Run kist's bats tests (or any command) inside a qemu TCG guest that has pure
# cgroup v2, with the host's / as the guest's root (read-only 9p lower, tmpfs
# upper overlay).  See tests/README.md, "Running tests in the VM".
#
#   tests/vm/run.sh [options] [-- CMD [ARG...]]
#
# Without CMD: runs `bats --tap` on the selected tests/*.bats files.
# Exit status: the guest job's exit status; 124 when the guest timed out;
# 125 when the VM could not be set up or ended without a result.

set -u
# All in one block: bash parses it whole before running it, so an edit of
# this file does not break a run in progress.
{

usage () {
  cat << 'EOF'
usage: tests/vm/run.sh [options] [-- CMD [ARG...]]

  --init=busybox|systemd  PID 1 of the guest (default busybox; systemd boots the
                          host's /lib/systemd/systemd with cgroup v2 unified and
                          runs the job as kist-vm.service)
  --filter GLOBS          bats files to run: comma-separated globs matched
                          against the names of tests/*.bats without ".bats"
                          (e.g. "cgroups", "life*,exec"); default: all.
                          A glob containing "/" is taken as a path from the
                          repository root (e.g. tests/vm/smoke.bats)
  --grep REGEX            only tests whose name matches REGEX (bats --filter)
  --exclude REGEX         not the tests whose name matches REGEX
  --output FILE           also copy the job's clean output (the TAP) to FILE
  --timeout SECONDS       bound for the whole VM run (default: derived from
                          the number of tests; 1800 for a CMD)
  --mem MB, --smp N       guest size (default 2048, 2)
  --jobs N                bats processes run at once in the guest, each on a
                          share of the files (default 1: on a loaded host, two
                          at once made each test ~4x slower, the vCPU threads
                          being preempted; try 2 on an idle host)
  --quiet                 do not stream the guest console; print the job's
                          output at the end instead
  --keep                  keep the job directory (console log, output)
  -- CMD [ARG...]         run CMD (from the repository root) instead of bats

environment: KIST_BUILD (default <repo>/build; $KIST_BUILD/kist becomes $KIST
in the guest), KIST_VM_CACHE (default ~/.cache/kist-vm), KIST_VM_KERNEL_PKG
(default: the dependency of linux-image-amd64), BATS_TEST_TIMEOUT (per
test, default 300 s in the guest), KIST_VM_APPEND (more kernel
parameters, e.g. "loglevel=7" to see the boot).  Host variables named KIST_*
are passed to the job.
EOF
}

die () { echo "kist-vm: $*" >&2; exit 125; }
note () { echo "kist-vm: $*" >&2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)

init=busybox filter="" grep="" exclude="" output="" timeout="" mem=2048 smp=2 jobs=""
quiet=0 keep=0
cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    --init=*) init=${1#--init=} ;;
    --init) init=${2:?}; shift ;;
    --filter=*) filter=${1#--filter=} ;;
    --filter) filter=${2:?}; shift ;;
    --grep=*) grep=${1#--grep=} ;;
    --grep) grep=${2:?}; shift ;;
    --exclude=*) exclude=${1#--exclude=} ;;
    --exclude) exclude=${2:?}; shift ;;
    --output=*) output=${1#--output=} ;;
    --output) output=${2:?}; shift ;;
    --timeout=*) timeout=${1#--timeout=} ;;
    --timeout) timeout=${2:?}; shift ;;
    --mem) mem=${2:?}; shift ;;
    --smp) smp=${2:?}; shift ;;
    --jobs) jobs=${2:?}; shift ;;
    --quiet) quiet=1 ;;
    --keep) keep=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; cmd=("$@"); break ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
case "$init" in
  busybox | systemd) ;;
  *) die "--init must be busybox or systemd" ;;
esac

# ---- host requirements -----------------------------------------------------
PATH=$PATH:/usr/sbin:/sbin
for tool in qemu-system-x86_64 cpio gzip xz dpkg-deb apt-get apt-cache depmod modinfo timeout; do
  command -v "$tool" > /dev/null || die "missing $tool (see tests/vm/deps.txt)"
done
busybox=""
for b in /bin/busybox /usr/bin/busybox "$(command -v busybox 2> /dev/null)"; do
  # A static busybox has no ELF interpreter string in it.
  if [ -x "$b" ] && ! grep -q '/lib64/ld-linux' "$b"; then busybox=$b; break; fi
done
[ -n "$busybox" ] || die "need a static busybox (apt-get install busybox-static)"
if [ "$init" = systemd ] && [ ! -x /lib/systemd/systemd ]; then
  die "--init=systemd needs systemd installed on the host (apt-get install systemd)"
fi

# ---- kernel + modules, cached by package version ---------------------------
CACHE=${KIST_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kist-vm}
mkdir -p "$CACHE" || die "cannot create $CACHE"
CACHE=$(cd "$CACHE" && pwd -P)

# Under TCG the bzImage spends ~4 s decompressing itself; qemu boots the
# plain ELF vmlinux directly through its PVH entry (CONFIG_PVH), so keep one.
extract_vmlinux () {
  local in=$1 out=$2 off magic
  grep -q '^CONFIG_PVH=y' "${in/vmlinuz-/config-}" 2> /dev/null || return 0
  off=$(grep -abo $'\xfd7zXZ\x00' "$in" | head -n1 | cut -d: -f1)
  [ -n "$off" ] || return 0
  tail -c +"$((off + 1))" "$in" | xz -dc --single-stream > "$out.tmp" 2> /dev/null
  magic=$(head -c4 "$out.tmp" | od -An -c | tr -d ' ')
  if [ "$magic" = '177ELF' ]; then mv "$out.tmp" "$out"; else rm -f "$out.tmp"; fi
}

# use_cached REASON: fall back on the newest kernel already in the cache.
use_cached () {
  local key
  key=$(ls -t "$CACHE"/*/.done 2> /dev/null | head -n1)
  [ -n "$key" ] || die "$1 (and no kernel cached in $CACHE)"
  KDIR=$(dirname "$key")
  note "$1; using the cached $(basename "$KDIR")"
}

kernel_version () {
  pkg=${KIST_VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2> /dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')}
  ver=""
  [ -n "$pkg" ] && ver=$(apt-cache policy "$pkg" 2> /dev/null | awk '$1 == "Candidate:" { print $2 }')
  [ -n "$pkg" ] && [ -n "$ver" ] && [ "$ver" != "(none)" ]
}

fetch_kernel () {
  local pkg ver tmp deb
  # A fresh machine may have no apt lists yet (contrib/deps.sh skips apt-get
  # when every package is installed): fetch them once when nothing is cached.
  if ! kernel_version && [ "$(id -u)" = 0 ] && ! ls "$CACHE"/*/.done > /dev/null 2>&1; then
    note "no kernel package in the apt lists: apt-get update"
    apt-get update -qq > /dev/null 2>&1 || note "apt-get update failed"
  fi
  if ! kernel_version; then
    use_cached "cannot find the kernel package in the apt lists (apt-get update?)"
    return
  fi
  KDIR=$CACHE/${pkg}_$ver
  [ -e "$KDIR/.done" ] && return
  note "fetching $pkg $ver into $CACHE"
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX") || die "mktemp in $CACHE"
  if ! (cd "$tmp" && apt-get download "$pkg=$ver") > "$tmp/apt.log" 2>&1; then
    # Stale package lists name a version the mirror no longer has: refresh
    # them once (as root) and retry.
    if [ "$(id -u)" = 0 ] && apt-get update -qq > /dev/null 2>&1 && kernel_version; then
      KDIR=$CACHE/${pkg}_$ver
      [ -e "$KDIR/.done" ] && { rm -rf "$tmp"; return; }
      note "fetching $pkg $ver into $CACHE"
      (cd "$tmp" && apt-get download "$pkg=$ver") > "$tmp/apt.log" 2>&1
    else
      false
    fi || {
      cat "$tmp/apt.log" >&2
      rm -rf "$tmp"
      use_cached "apt-get download $pkg=$ver failed"
      return
    }
  fi
  deb=$(ls "$tmp"/*.deb) && dpkg-deb -x "$deb" "$tmp/root" \
    || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
  local kv
  kv=$(ls "$tmp/root/lib/modules")
  # The .deb ships no modules.dep (its postinst makes it): make one, so that
  # modinfo here and modprobe in the guest work.
  depmod -b "$tmp/root" "$kv" || { rm -rf "$tmp"; die "depmod failed"; }
  rm -f "$deb"
  extract_vmlinux "$tmp/root/boot/vmlinuz-$kv" "$tmp/root/boot/vmlinux-$kv"
  rm -rf "$KDIR"
  mv "$tmp/root" "$KDIR" && touch "$KDIR/.done" || die "cannot populate $KDIR"
  rm -rf "$tmp"
}

if command -v flock > /dev/null; then
  exec 9> "$CACHE/.lock"
  flock 9
fi
fetch_kernel
exec 9>&-
KVER=$(ls "$KDIR/lib/modules" | head -n1)
VMLINUZ=$KDIR/boot/vmlinux-$KVER
[ -r "$VMLINUZ" ] || VMLINUZ=$KDIR/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || die "no kernel image in $KDIR"

# ---- job directory (shared writable with the guest as "kistjob") ----------
JOB=$(mktemp -d "${TMPDIR:-/tmp}/kist-vm-job.XXXXXX") || die "mktemp failed"
JOB=$(cd "$JOB" && pwd -P)
chmod 0755 "$JOB"
tpid="" tailpid=""
cleanup () {
  # End only what we started: the timeout process forwards TERM to its qemu.
  if [ -n "$tpid" ] && kill -0 "$tpid" 2> /dev/null; then
    kill -TERM "$tpid" 2> /dev/null
    wait "$tpid" 2> /dev/null
  fi
  if [ -n "$tailpid" ] && kill -0 "$tailpid" 2> /dev/null; then
    kill "$tailpid" 2> /dev/null
  fi
  if [ "$keep" = 1 ]; then
    note "job directory kept: $JOB"
  else
    rm -rf "$JOB"
  fi
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM HUP

# ---- initramfs ---------------------------------------------------------------
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
netfs fscache 9pnet 9pnet_virtio 9p overlay
netlink_diag inet_diag tcp_diag udp_diag unix_diag af_packet_diag raw_diag
crc32c_generic libcrc32c nfnetlink nf_tables"
# Built once per kernel, init script, busybox and module list, and kept
# next to the kernel: ~20 s of host time per boot on a loaded machine.
IRKEY=$({ cat "$HERE/initramfs-init" "$busybox"; echo "$MODULES"; } | md5sum | cut -c1-12)
IRCACHE=$KDIR/initramfs-$IRKEY.gz
if [ -s "$IRCACHE" ] && [ "$(id -u)" = 0 ]; then
  cp "$IRCACHE" "$JOB/initramfs.gz" || die "cannot copy $IRCACHE"
else
  IRD=$JOB/initramfs
  mkdir -p "$IRD"/{bin,dev,proc,sys,modules,run,tmp} || die "mkdir $IRD"
  cp "$busybox" "$IRD/bin/busybox" && cp "$HERE/initramfs-init" "$IRD/init" \
    && chmod 0755 "$IRD/init" || die "cannot populate the initramfs"
  : > "$IRD/modules.list"
  for m in $MODULES; do
    f=$(modinfo -b "$KDIR" -k "$KVER" -F filename "$m" 2> /dev/null)
    case "$f" in
      "" | "(builtin)") continue ;; # absent or built in: nothing to load
      *.ko) cp "$f" "$IRD/modules/$m.ko" ;;
      *.ko.xz) xz -dc "$f" > "$IRD/modules/$m.ko" ;;
      *.ko.zst) zstd -qdc "$f" > "$IRD/modules/$m.ko" ;;
      *) note "skipping module $m ($f)"; continue ;;
    esac || die "cannot copy module $m"
    echo "$m" >> "$IRD/modules.list"
  done
  [ "$(id -u)" = 0 ] && mknod "$IRD/dev/console" c 5 1
  (cd "$IRD" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet | gzip -1) \
    > "$JOB/initramfs.gz" || die "cannot build the initramfs"
  rm -rf "$IRD"
  # Only a root-made one has /dev/console: cache that one.
  if [ "$(id -u)" = 0 ]; then
    cp "$JOB/initramfs.gz" "$IRCACHE.tmp.$$" && mv "$IRCACHE.tmp.$$" "$IRCACHE"
  fi
fi

# ---- the job ---------------------------------------------------------------------
KIST_BUILD=${KIST_BUILD:-$REPO/build}
[ -d "$KIST_BUILD" ] && KIST_BUILD=$(cd "$KIST_BUILD" && pwd -P)
ntests=0
if [ ${#cmd[@]} -eq 0 ]; then
  files=()
  IFS=, read -r -a globs <<< "${filter:-*}"
  for g in "${globs[@]}"; do
    n=${#files[@]}
    if [[ "$g" == */* ]]; then
      for f in "$REPO"/$g; do [ -f "$f" ] && files+=("${f#"$REPO"/}"); done
    else
      g=${g%.bats}
      for f in "$REPO"/tests/$g.bats; do [ -f "$f" ] && files+=("tests/${f##*/}"); done
    fi
    [ ${#files[@]} -gt "$n" ] || note "no bats file matches '$g'"
  done
  [ ${#files[@]} -gt 0 ] || die "no bats files selected"
  # The tests to run: --grep matches, --exclude does not.  With --exclude,
  # bats gets a --filter naming each remaining test (anchored, escaped).
  selected="" kept=()
  for f in "${files[@]}"; do
    n=0
    while IFS= read -r name; do
      [ -n "$grep" ] && ! [[ "$name" =~ $grep ]] && continue
      [ -n "$exclude" ] && [[ "$name" =~ $exclude ]] && continue
      n=$((n + 1))
      # shellcheck disable=SC2001
      selected="$selected|^$(sed 's/[][\\.*^$(){}+?|]/\\&/g' <<< "$name")\$"
    done < <(sed -n 's/^[[:space:]]*@test[[:space:]]*"\(.*\)"[[:space:]]*{[[:space:]]*$/\1/p' "$REPO/$f")
    [ "$n" -gt 0 ] && kept+=("$f")
    ntests=$((ntests + n))
  done
  [ -z "$exclude" ] || files=("${kept[@]}")
  [ ${#files[@]} -gt 0 ] || die "no tests selected"
  # --timing: "in N ms" on each TAP line, to see what TCG makes slow.
  cmd=(bats --tap --timing)
  if [ -n "$exclude" ]; then
    cmd+=(--filter "${selected#|}")
  elif [ -n "$grep" ]; then
    cmd+=(--filter "$grep")
  fi
  # --jobs N: one bats per share of the files (tests/vm/bats-shards.sh).
  jobs=${jobs:-1}
  if [ "$jobs" -gt 1 ] && [ ${#files[@]} -gt 1 ]; then
    cmd=(bash tests/vm/bats-shards.sh "$jobs" "${cmd[@]:1}" --)
  fi
  cmd+=("${files[@]}")
  note "running ${#files[@]} bats file(s), $ntests test(s): ${files[*]}"
fi
# Generous: TCG is ~30x slower than native and a test runs several containers.
if [ -z "$timeout" ]; then
  if [ "$ntests" -gt 0 ]; then timeout=$((300 + 40 * ntests)); else timeout=1800; fi
  [ "$init" = systemd ] && timeout=$((timeout + 300))
fi

{
  printf 'KIST_VM_INIT=%q\n' "$init"
  printf 'KIST_VM_KVER=%q\n' "$KVER"
  printf 'KIST_VM_MODULES=%q\n' "$KDIR/lib/modules/$KVER"
  printf 'KIST_VM_CWD=%q\n' "$REPO"
  # The guest's /tmp is a fresh tmpfs: keep the repository and the build dir
  # visible there when they live in the host's /tmp.
  keep_dirs=""
  for d in "$REPO" "$KIST_BUILD" "${KIST:+$(dirname "$KIST")}"; do
    case "$d" in
      /tmp/?*) d=${d#/tmp/} && keep_dirs="$keep_dirs /tmp/${d%%/*}" ;;
    esac
  done
  printf 'KIST_VM_KEEP=%q\n' "$keep_dirs"
} > "$JOB/vm.conf"
{
  # Pass KIST_* through (not our own KIST_VM_* settings), and the one bats
  # setting meant for users (the rest of BATS_* is bats' internal state).
  while IFS= read -r -d '' kv; do
    name=${kv%%=*}
    case "$name" in
      KIST_VM_*) ;;
      KIST_* | BATS_TEST_TIMEOUT) printf '%s=%q\n' "$name" "${kv#*=}" ;;
    esac
  done < <(env -0)
  printf 'KIST_BUILD=%q\n' "$KIST_BUILD"
  if [ -z "${KIST:-}" ] && [ -x "$KIST_BUILD/kist" ]; then
    printf 'KIST=%q\n' "$KIST_BUILD/kist"
  fi
  [ -d "$KIST_BUILD" ] && printf 'PATH=%q:"$PATH"\n' "$KIST_BUILD"
  printf 'KIST_IN_VM=%q\n' "$init"
  # One hung test must not eat the whole VM's time bound.
  [ -n "${BATS_TEST_TIMEOUT:-}" ] || printf 'BATS_TEST_TIMEOUT=300\n'
} > "$JOB/job.env"
{
  printf '# generated by tests/vm/run.sh\nexec'
  printf ' %q' "${cmd[@]}"
  printf '\n'
} > "$JOB/job"
# The tests' busybox rootfs, built natively here: made in the guest it costs
# 65-95 s of TCG time (one fork per applet).  guest-run.sh copies it to the
# guest's /tmp and points KIST_ROOTFS_CACHE at the copy.  One tar file: a
# tree of ~400 symlinks costs thousands of 9p round trips.
# Kept in the cache, keyed by make-rootfs.sh and busybox.
if [ -z "${KIST_ROOTFS_CACHE:-}" ] && [ -r "$REPO/contrib/demo/make-rootfs.sh" ]; then
  rootfs_tar=$CACHE/rootfs-$(cat "$REPO/contrib/demo/make-rootfs.sh" "$busybox" | md5sum | cut -c1-12).tar
  if [ ! -s "$rootfs_tar" ]; then
    if BUSYBOX=$busybox bash "$REPO/contrib/demo/make-rootfs.sh" "$JOB/rootfs" \
      && tar -C "$JOB/rootfs" -cf "$rootfs_tar.tmp.$$" . \
      && mv "$rootfs_tar.tmp.$$" "$rootfs_tar"; then
      :
    else
      rm -f "$rootfs_tar.tmp.$$"
    fi
    rm -rf "$JOB/rootfs"
  fi
  if [ -s "$rootfs_tar" ]; then
    cp "$rootfs_tar" "$JOB/rootfs.tar"
  else
    note "cannot prebuild the busybox rootfs; the tests will build it in the guest"
  fi
fi
cp "$HERE/guest-run.sh" "$JOB/guest-run.sh" && mkdir "$JOB/systemd" \
  && cp "$HERE"/systemd/*.service "$HERE"/systemd/*.target "$JOB/systemd/" \
  || die "cannot populate $JOB"

# ---- boot ---------------------------------------------------------------------------
# panic=-1: a dying PID 1 reboots at once, and -no-reboot turns that into exit.
append="console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4 cgroup_no_v1=all"
# TCG makes the guest's clock jumpy: do not let the watchdogs cry wolf.
append="$append nowatchdog tsc=reliable"
if [ "$init" = systemd ]; then
  append="$append systemd.unified_cgroup_hierarchy=1 systemd.unit=kist-vm.target"
  append="$append fstab=0 systemd.show_status=error"
  # Boot jobs of the host's units that only cost time here (tmpfiles-setup
  # alone walks the 9p tree for ~30 s under TCG; journald, random-seed,
  # sysusers and modules-load held sysinit.target back for ~17 s on a loaded
  # host).  The job logs to the console, not the journal.
  for u in systemd-tmpfiles-setup.service systemd-tmpfiles-clean.timer \
    systemd-update-utmp.service systemd-timesyncd.service apt-daily.timer \
    apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    fstrim.timer man-db.timer \
    systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket \
    systemd-journald-audit.socket systemd-journal-flush.service \
    systemd-random-seed.service systemd-sysusers.service systemd-modules-load.service \
    systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
    sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount kmod-static-nodes.service \
    systemd-sysctl.service podman.socket podman-auto-update.timer; do
    append="$append systemd.mask=$u"
  done
fi
append="$append ${KIST_VM_APPEND:-}"
qemu=(qemu-system-x86_64 -accel tcg -m "$mem" -smp "$smp" -nographic -no-reboot
  -nic none
  -kernel "$VMLINUZ" -initrd "$JOB/initramfs.gz" -append "$append"
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap
  -virtfs "local,path=$JOB,mount_tag=kistjob,security_model=none,multidevs=remap"
  -pidfile "$JOB/qemu.pid")

note "booting $KVER (init=$init, timeout ${timeout}s, job dir $JOB)"
: > "$JOB/console.raw"
# The console log without CRs and terminal escapes (SeaBIOS, systemd colours).
NOANSI=$'s/\r//g; s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\x1b[c78]//g'
start=$(date +%s)
timeout --kill-after=15 "$timeout" "${qemu[@]}" < /dev/null > "$JOB/console.raw" 2>&1 &
tpid=$!
if [ "$quiet" = 0 ]; then
  tail -n +1 -f --pid="$tpid" "$JOB/console.raw" | sed -u "$NOANSI" &
  tailpid=$!
fi
wait "$tpid"
qrc=$?
tpid=""
[ -n "$tailpid" ] && wait "$tailpid" 2> /dev/null
tailpid=""
elapsed=$(($(date +%s) - start))
[ -d "$JOB" ] || die "the job directory $JOB was removed on the host during the run"
sed "$NOANSI" "$JOB/console.raw" > "$JOB/console.log"

if [ -r "$JOB/rc" ]; then
  rc=$(cat "$JOB/rc")
  [ "$quiet" = 1 ] && cat "$JOB/output"
  [ -n "$output" ] && cp "$JOB/output" "$output"
  note "guest job exited $rc; VM ran ${elapsed}s"
else
  [ -n "$output" ] && cp "$JOB/output" "$output" 2> /dev/null
  if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    rc=124
    note "TIMEOUT: the VM did not finish within ${timeout}s"
  else
    rc=125
    note "the VM ended (qemu status $qrc) without a job result"
  fi
  [ "$quiet" = 1 ] && tail -n 60 "$JOB/console.log" >&2
  keep=1
fi
exit "$rc"
}
