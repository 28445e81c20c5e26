# Shared by tests/integration/*.bats: Podman and containerd driving kist.
#
#   load ../helpers
#   load integ
#
# Every engine runs with private state under the bats file's temp dir: Podman
# with its own --root/--runroot/--tmpdir/--network-config-dir and kist's state
# root passed through --runtime-flag, containerd as its own daemon (root,
# state, sockets and config under the temp dir, stopped by pid). Containers
# get a cgroup parent named after this run (kist-integ-*), which teardown
# checks is empty and removes. Nothing is left behind: teardown fails a test
# that leaves a container, a mount, a cgroup or a process.

# Tests run one by one: an engine's cgroup parent is per file.
INTEG_TAG=kist-integ-$(basename "$BATS_TEST_FILENAME" .bats)-$$
# The same limits runc needs here: Podman asks for nofile=1048576, above this
# host's hard limit (kist refuses it with a message that says so).
INTEG_ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# integ_skip_loudly REASON: skip, and say so on the TAP stream too (a skipped
# engine must be visible in CI's log, not only in the test's name).
integ_skip_loudly() {
  echo "# SKIP: $1" >&3
  skip "$1"
}

# integ_image_tar FILE: a tarball of the busybox rootfs (an image to import).
integ_image_tar() {
  rootfs_cache
  [ -s "$1" ] || tar -C "$ROOTFS_CACHE" --exclude=./.kist-rootfs-complete -cf "$1" .
}

# Host paths an engine creates on first use whatever its private-state
# flags say (Podman's blob-info cache and network run dir, containerd's
# shim socket and fifo dirs). integ_note_new_paths records which of them do
# not exist yet; integ_remove_new_paths removes those, and only those, at the
# end of the file.
integ_note_new_paths() {
  local p
  : >"$BATS_FILE_TMPDIR/new-paths"
  for p in "$@"; do
    [ -e "$p" ] || echo "$p" >>"$BATS_FILE_TMPDIR/new-paths"
  done
}
integ_remove_new_paths() {
  local p
  [ -f "$BATS_FILE_TMPDIR/new-paths" ] || return 0
  while read -r p; do
    [ -n "$p" ] && [ -e "$p" ] && rm -rf -- "$p"
  done <"$BATS_FILE_TMPDIR/new-paths"
  return 0
}

# integ_cgroup_dirs: this run's cgroup parent in every hierarchy.
integ_cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"$INTEG_TAG" /sys/fs/cgroup/"$INTEG_TAG"; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}

# integ_check_cgroups [ALLOWED-CHILD...]: fails (and says which) when a
# cgroup is left under this run's parent, other than the ALLOWED children
# (Podman's conmon cgroup, say, which Podman never removes). Removes the
# allowed ones and the parent once they are empty.
integ_check_cgroups() {
  local d sub name ok rc=0 i
  for d in $(integ_cgroup_dirs); do
    for sub in "$d"/*/; do
      [ -d "$sub" ] || continue
      name=$(basename "$sub")
      ok=0
      for i in "$@"; do [ "$name" = "$i" ] && ok=1; done
      if [ $ok = 0 ]; then
        echo "cgroup left behind: $sub (procs: $(tr '\n' ' ' <"$sub/cgroup.procs"))" >&2
        rc=1
      fi
    done
  done
  [ $rc = 0 ] || return 1
  # A just-stopped conmon may still be leaving its cgroup: retry briefly.
  for i in $(seq 50); do
    local left=0
    for d in $(integ_cgroup_dirs); do
      for sub in "$@"; do
        [ -d "$d/$sub" ] && { rmdir "$d/$sub" 2>/dev/null || left=1; }
      done
      rmdir "$d" 2>/dev/null || left=1
    done
    [ $left = 0 ] && return 0
    sleep 0.1
  done
  for d in $(integ_cgroup_dirs); do
    echo "cgroup not empty: $d (procs: $(cat "$d"/cgroup.procs "$d"/*/cgroup.procs 2>/dev/null | tr '\n' ' '))" >&2
  done
  return 1
}

# integ_check_mounts DIR [KEEP...]: fails when something is mounted under DIR
# (and detaches it, so that bats can remove the temp dir); mount points
# listed as KEEP are allowed and left alone.
integ_check_mounts() {
  local mp rc=0 dir=$1 k keep
  shift
  while read -r mp; do
    [ -n "$mp" ] || continue
    keep=0
    for k in "$@"; do [ "$mp" = "$k" ] && keep=1; done
    [ $keep = 0 ] || continue
    echo "mount left behind: $mp" >&2
    umount -l "$mp" 2>/dev/null || true
    rc=1
  done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  return $rc
}

# integ_pids_under DIR: processes whose command line names DIR (ours: conmon,
# containerd, shims, the containers started from DIR).
integ_pids_under() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1/"; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

# integ_check_processes DIR [GRACE-SECONDS]: fails when a process that names
# DIR is still alive after GRACE seconds, and ends it (by pid: it is ours).
integ_check_processes() {
  local dir=$1 grace=${2:-5} pids i
  for ((i = 0; i < grace * 10; i++)); do
    pids=$(integ_pids_under "$dir")
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  for p in $pids; do
    echo "process left behind: $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)" >&2
    kill -KILL "$p" 2>/dev/null || true
  done
  return 1
}

# integ_check_kist_root ROOT: fails when kist still has a container there.
integ_check_kist_root() {
  local left
  left=$("$KIST" --root "$1" list -q 2>/dev/null || true)
  left+=$(find "$1" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf ' %f' 2>/dev/null || true)
  if [ -n "$left" ]; then
    echo "kist containers left in $1: $left" >&2
    return 1
  fi
}

# integ_ns CMD...: the wall time of one run of CMD in nanoseconds; fails
# when CMD fails.
integ_ns() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || return 1
  t1=$(date +%s%N)
  echo $((t1 - t0))
}

# integ_report WHAT N KIST-NS RUNC-NS: the TAP comment line with both means.
integ_report() {
  awk -v w="$1" -v n="$2" -v a="$3" -v b="$4" 'BEGIN {
    printf "# %s (mean of %d, interleaved): kist %.3fs, runc %.3fs, ratio %.2f\n",
      w, n, a / n / 1e9, b / n / 1e9, a / b }' >&3
}
