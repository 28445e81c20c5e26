#!/usr/bin/env bats
# containerd (Debian's 1.6) driving kist through its runc shim
# (io.containerd.runc.v2): `ctr run --runc-binary kist`, and kist as a
# configured runtime (BinaryName) for the CRI plugin, with the snippets in
# contrib/containerd/ and contrib/kubernetes/. The containerd daemon is this
# file's own: root, state, sockets, config and kist's state dir live under the
# file's temp dir, and it is stopped by pid at the end.

load ../helpers
load integ

IMAGE=localhost/kist-integ-busybox:latest
# The pod sandbox's image for the CRI test: busybox sleeping.
PAUSE_IMAGE=localhost/kist-integ-pause:latest
NS=kist-integ

# cr ARG...: ctr talking to this file's containerd.
cr() {
  "$BATS_FILE_TMPDIR/ctd/ctr" "$@"
}

# cr_run ID [CTR-RUN-OPTION...] -- CMD...: `ctr run` with kist as the runc
# binary (CR_RUNTIME=/path/to/other picks another one), its state dir and
# this run's cgroup parent.
cr_run() {
  local id=$1 t=$BATS_FILE_TMPDIR/ctd opts=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  local bin=${CR_RUNTIME:-$KIST}
  cr run --runc-binary "$bin" --runc-root "$t/state-$(basename "$bin")" \
    --cgroup "/$INTEG_TAG/$id" --fifo-dir "$t/fifo" "${opts[@]}" "$IMAGE" "$id" "$@"
}

# cr_start ID CMD...: a detached container whose output goes to
# $BATS_TEST_TMPDIR/ID.log.
cr_start() {
  local id=$1
  shift
  cr_run "$id" -d --log-uri "file://$BATS_TEST_TMPDIR/$id.log" -- "$@"
}

# ctd_start NAME CONFIG-TAIL: starts containerd with a config of its own
# (private paths, then CONFIG-TAIL); prints why when it cannot.
ctd_start() {
  local t=$BATS_FILE_TMPDIR/$1 i
  mkdir -p "$t"
  cat >"$t/config.toml" <<EOF
version = 2
root = "$t/root"
state = "$t/state"
[grpc]
  address = "$t/c.sock"
[ttrpc]
  address = "$t/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$t/opt"
EOF
  printf '%s\n' "$2" >>"$t/config.toml"
  cat >"$t/ctr" <<EOF
#!/bin/sh
exec ctr --address $t/c.sock --namespace $NS "\$@"
EOF
  chmod +x "$t/ctr"
  # fd 3 closed: bats waits for every holder of its TAP stream.
  containerd --config "$t/config.toml" </dev/null >"$t/containerd.log" 2>&1 3>&- &
  echo $! >"$t/pid"
  for ((i = 0; i < 200; i++)); do
    if "$t/ctr" version >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$(cat "$t/pid")" 2>/dev/null || break
    sleep 0.05
  done
  echo "containerd cannot start here: $(grep -m1 -iE 'level=(fatal|error)' "$t/containerd.log" || tail -n1 "$t/containerd.log")"
  ctd_stop "$1"
  return 1
}

# ctd_stop NAME: stops that containerd by pid.
ctd_stop() {
  local t=$BATS_FILE_TMPDIR/$1 pid i
  [ -f "$t/pid" ] || return 0
  pid=$(cat "$t/pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$t/pid"
}

# wait_stopped ID: waits up to 5 s for the task to be STOPPED, fails if not.
wait_stopped() {
  local i st
  for ((i = 0; i < 100; i++)); do
    st=$(cr task ls | awk -v id="$1" '$1 == id { print $3 }')
    [ "$st" = STOPPED ] && return 0
    sleep 0.05
  done
  assert_equal "$st" STOPPED
}

setup_file() {
  local t=$BATS_FILE_TMPDIR/ctd reason=
  mkdir -p "$t"
  # containerd 1.6 puts shim sockets in /run/containerd/s whatever its config;
  # Podman (which makes the image archive) its blob cache and network run dir.
  integ_note_new_paths /run/containerd /var/lib/containers /run/containers /etc/containers/networks
  if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
    reason="containerd is not installed (contrib/deps.sh installs it)"
  elif ! reason=$(ctd_start ctd 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'); then
    :
  elif ! command -v podman >/dev/null; then
    reason="podman is not installed: it writes the image archive (contrib/deps.sh installs it)"
  else
    reason=
    integ_image_tar "$t/busybox.tar"
    # An image archive, made offline: Podman imports the rootfs tarball and
    # saves it in docker-archive format, which `ctr image import` reads.
    local p=$t/podman
    if ! podman --root "$p/root" --runroot "$p/runroot" --tmpdir "$p/tmp" \
      --network-config-dir "$p/net" --cgroup-manager cgroupfs --events-backend file \
      import "$t/busybox.tar" "$IMAGE" >"$t/import.out" 2>&1 ||
      ! podman --root "$p/root" --runroot "$p/runroot" --tmpdir "$p/tmp" \
        --network-config-dir "$p/net" --cgroup-manager cgroupfs --events-backend file \
        save --format docker-archive -o "$t/image.tar" "$IMAGE" >>"$t/import.out" 2>&1 ||
      ! podman --root "$p/root" --runroot "$p/runroot" --tmpdir "$p/tmp" \
        --network-config-dir "$p/net" --cgroup-manager cgroupfs --events-backend file \
        import --change 'CMD ["sleep", "1000000"]' "$t/busybox.tar" "$PAUSE_IMAGE" >>"$t/import.out" 2>&1 ||
      ! podman --root "$p/root" --runroot "$p/runroot" --tmpdir "$p/tmp" \
        --network-config-dir "$p/net" --cgroup-manager cgroupfs --events-backend file \
        save --format docker-archive -o "$t/pause.tar" "$PAUSE_IMAGE" >>"$t/import.out" 2>&1; then
      reason="cannot make the image archive: $(tail -n1 "$t/import.out")"
    elif ! cr image import "$t/image.tar" >>"$t/import.out" 2>&1; then
      reason="ctr cannot import the image: $(tail -n1 "$t/import.out")"
    fi
    podman --root "$p/root" --runroot "$p/runroot" --tmpdir "$p/tmp" \
      --network-config-dir "$p/net" system reset -f >/dev/null 2>&1 || true
  fi
  [ -z "$reason" ] || echo "$reason" >"$t/skip"
}

teardown_file() {
  local t=$BATS_FILE_TMPDIR/ctd
  if [ -f "$t/pid" ]; then
    cr image rm "$IMAGE" >/dev/null 2>&1 || true
  fi
  local p
  for p in "$BATS_FILE_TMPDIR"/*/pid; do
    [ -f "$p" ] && ctd_stop "$(basename "$(dirname "$p")")"
  done
  local rc=0
  integ_check_mounts "$BATS_FILE_TMPDIR" || rc=1
  integ_remove_new_paths
  return $rc
}

setup() {
  local t=$BATS_FILE_TMPDIR/ctd
  [ ! -f "$t/skip" ] || integ_skip_loudly "$(cat "$t/skip")"
}

# Every test deletes its tasks and containers itself: one left is a failure,
# and so is kist state, a cgroup under this run's parent, a mount or a
# process (a shim) naming the temp dir other than the daemons.
teardown() {
  local t=$BATS_FILE_TMPDIR/ctd rc=0 left c p daemons
  [ ! -f "$t/skip" ] || return 0
  left=$(cr task ls -q 2>/dev/null)
  if [ -n "$left" ]; then
    echo "containerd tasks left behind: $left" >&2
    for c in $left; do cr task delete -f "$c" >/dev/null 2>&1 || true; done
    rc=1
  fi
  left=$(cr container ls -q 2>/dev/null)
  if [ -n "$left" ]; then
    echo "containerd containers left behind: $left" >&2
    cr container rm $left >/dev/null 2>&1 || true
    rc=1
  fi
  for d in "$t"/state-*; do
    [ -d "$d" ] || continue
    integ_check_kist_root "$d/$NS" || rc=1
  done
  daemons=" $(cat "$BATS_FILE_TMPDIR"/*/pid 2>/dev/null | tr '\n' ' ') "
  for ((i = 0; i < 50; i++)); do
    left=
    for p in $(integ_pids_under "$BATS_FILE_TMPDIR"); do
      [[ "$daemons" == *" $p "* ]] || left+=" $p"
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    for p in $left; do
      echo "process left behind: $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)" >&2
      kill -KILL "$p" 2>/dev/null || true
    done
    rc=1
  fi
  integ_check_cgroups || rc=1
  integ_check_mounts "$t/state" || rc=1
  return $rc
}

@test "containerd: ctr run --runc-binary kist passes output and exit codes" {
  run cr_run integ-r1 --rm -- sh -c 'echo hello from kist; exit 0'
  assert_success
  assert_output "hello from kist"
  run cr_run integ-r2 --rm -- sh -c 'echo out; exit 3'
  assert_equal "$status" 3
  assert_output out
  # The spec containerd wrote is the one kist ran: env and cwd, say.
  run cr_run integ-r3 --rm --env FOO=bar --cwd /tmp -- sh -c 'echo $FOO $(pwd)'
  assert_success
  assert_output "bar /tmp"
}

@test "containerd: ctr task exec without and with --tty" {
  run cr_start integ-e1 sleep 1000
  assert_success
  run cr task exec --fifo-dir "$BATS_FILE_TMPDIR/ctd/fifo" --exec-id x1 integ-e1 \
    sh -c 'echo in exec; [ -t 0 ] || echo no-tty; exit 6'
  assert_equal "$status" 6
  assert_output $'in exec\nno-tty'
  local cmd
  cmd=$(printf '%q ' "$BATS_FILE_TMPDIR/ctd/ctr" task exec -t --fifo-dir "$BATS_FILE_TMPDIR/ctd/fifo" \
    --exec-id x2 integ-e1 sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exit 2')
  run script -qec "$cmd" /dev/null
  assert_equal "$status" 2
  assert_output --partial /dev/pts/
  assert_output --partial both-tty
  run cr task delete -f integ-e1
  assert_success
  run cr container rm integ-e1
  assert_success
}

@test "containerd: ctr task kill (one signal, then --all) and delete" {
  run cr_start integ-k1 sh -c 'trap "echo got TERM; exit 7" TERM; while :; do sleep 0.1; done'
  assert_success
  run cr task kill -s TERM integ-k1
  assert_success
  wait_stopped integ-k1
  assert_equal "$(cat "$BATS_TEST_TMPDIR/integ-k1.log")" "got TERM"
  # delete of a stopped task reports its exit status.
  run cr task delete integ-k1
  assert_success
  assert_output --partial "exit code 7"
  run cr container rm integ-k1
  assert_success

  # --all reaches an exec'd process too.
  run cr_start integ-k2 sh -c 'trap "" TERM; sleep 1000; true'
  assert_success
  run cr task exec -d --fifo-dir "$BATS_FILE_TMPDIR/ctd/fifo" --exec-id x1 integ-k2 sleep 999
  assert_success
  run cr task kill -a -s KILL integ-k2
  assert_success
  wait_stopped integ-k2
  run cr task delete integ-k2
  assert_success
  run cr container rm integ-k2
  assert_success
}

@test "containerd: ctr task pause and resume" {
  run cr_start integ-p1 sh -c 'while :; do date +%s%N >/tmp/tick; sleep 0.05; done'
  assert_success
  run cr task pause integ-p1
  assert_success
  run cr task ls
  assert_line --regexp '^integ-p1 +[0-9]+ +PAUSED'
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    assert_equal "$(cat "/sys/fs/cgroup/$INTEG_TAG/integ-p1/cgroup.freeze")" 1
  else
    assert_equal "$(cat "/sys/fs/cgroup/freezer/$INTEG_TAG/integ-p1/freezer.state")" FROZEN
  fi
  run cr task resume integ-p1
  assert_success
  run cr task ls
  assert_line --regexp '^integ-p1 +[0-9]+ +RUNNING'
  run cr task exec --fifo-dir "$BATS_FILE_TMPDIR/ctd/fifo" --exec-id x1 integ-p1 cat /tmp/tick
  assert_success
  run cr task delete -f integ-p1
  assert_success
  run cr container rm integ-p1
  assert_success
}

@test "containerd: ctr task metrics and ctr task ps" {
  run cr_run integ-m1 -d --null-io --memory-limit 67108864 -- sh -c 'sleep 1000 & sleep 999; true'
  assert_success
  run cr task metrics integ-m1
  assert_success
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    assert_line --regexp '^memory\.usage +[1-9][0-9]*'
    assert_line --regexp '^memory\.limit +67108864'
    assert_line --regexp '^pids\.current +3'
  else
    assert_line --regexp '^memory\.usage_in_bytes +[1-9][0-9]*'
    assert_line --regexp '^memory\.limit_in_bytes +67108864'
    assert_line --regexp '^pids\.current +3'
  fi
  # ps: the init and its two children, by host pid (kist ps --format json).
  run cr task ps integ-m1
  assert_success
  local pid
  pid=$(cr task ls | awk '$1 == "integ-m1" { print $2 }')
  assert_line --regexp "^$pid "
  assert_equal "$(grep -cE '^[0-9]+ ' <<<"$output")" 3
  run cr task delete -f integ-m1
  assert_success
  run cr container rm integ-m1
  assert_success
}

@test "containerd: a kist error reaches the ctr user as kist's message (log-format json)" {
  run cr_run integ-err1 --rm -- /no/such/cmd
  assert_failure
  assert_output --partial "OCI runtime create failed: process.args[0]: /no/such/cmd: No such file or directory"
  # A memory limit under what the init needs to start: kist names the limit.
  run cr_run integ-err2 --rm --memory-limit 4096 -- true
  assert_failure
  assert_output --partial "OCI runtime create failed: the container's init was killed by the OOM killer during setup: linux.resources.memory.limit 4096 is too low"
  run cr container ls -q
  assert_output ""
}

@test "containerd: the CRI plugin runs a pod with kist as the RuntimeClass handler (BinaryName)" {
  local t=$BATS_FILE_TMPDIR/cri tail py=/usr/bin/python3
  "$py" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed (contrib/deps.sh installs it)"
  mkdir -p "$t/cni-conf" "$t/cni-bin" "$t/logs"
  # kist through a wrapper that notes each command, to see it was kist that ran.
  printf '#!/bin/sh\necho "$*" >>%s/kist-calls\nexec %s "$@"\n' "$t" "$KIST" >"$t/kist"
  chmod +x "$t/kist"
  # contrib/kubernetes' CRI config, with this build's kist and private dirs.
  tail=$(sed -e '/^version *=/d' \
    -e "s|BinaryName = .*|BinaryName = \"$t/kist\"|" \
    -e "s|Root = .*|Root = \"$t/kist-state\"|" \
    -e "s|conf_dir = .*|conf_dir = \"$t/cni-conf\"|" \
    -e "s|bin_dir = .*|bin_dir = \"$t/cni-bin\"|" \
    "$REPO/contrib/kubernetes/containerd-cri.toml")
  # No pull: the sandbox image is imported. This host gives root no
  # CAP_SYS_RESOURCE, so the pause container's oom_score_adj of -998 is kept
  # to containerd's own (runc fails the same way without it).
  run ctd_start cri "[plugins.\"io.containerd.grpc.v1.cri\"]
  sandbox_image = \"$PAUSE_IMAGE\"
  restrict_oom_score_adj = true
$tail"
  assert_success
  run ctr --address "$t/c.sock" plugins ls
  assert_success
  assert_line --regexp '^io\.containerd\.grpc\.v1 +cri +linux/[a-z0-9]+ +ok'
  run grep -F "kist:{Type:io.containerd.runc.v2" "$t/containerd.log"
  assert_success
  assert_output --partial "BinaryName:$t/kist"
  local f
  for f in image pause; do
    run ctr --address "$t/c.sock" -n k8s.io image import "$BATS_FILE_TMPDIR/ctd/$f.tar"
    assert_success
  done
  # What a kubelet does for a pod with runtimeClassName: kist.
  run "$py" "$REPO/tests/integration/cri-pod.py" "$t/c.sock" kist "$IMAGE" "$t/logs" "/$INTEG_TAG"
  assert_success
  assert_line --regexp '^sandbox [0-9a-f]{64}$'
  assert_line --regexp '^container [0-9a-f]{64}$'
  assert_line "exec: exec in the pod | sleep 1000000 (exit 0)"
  run cat "$t/logs/hello.log"
  assert_output --regexp ' stdout F hello from the pod$'
  # kist created, started and deleted both, in the state root of the config.
  run grep -c -E "^--root $t/kist-state/k8s.io .*(create|start|delete) " "$t/kist-calls"
  [ "$output" -ge 6 ] || fail "kist was not called for the pod: $(cat "$t/kist-calls")"
  integ_check_kist_root "$t/kist-state/k8s.io"
  integ_check_mounts "$t/state"
  ctd_stop cri
}

@test "containerd: the contrib snippet is valid containerd config" {
  local t=$BATS_FILE_TMPDIR/snippet tail
  mkdir -p "$t"
  tail=$(sed -e '/^version *=/d' -e "s|BinaryName = .*|BinaryName = \"$KIST\"|" \
    -e "s|Root = .*|Root = \"$t/kist-state\"|" "$REPO/contrib/containerd/config.toml")
  run ctd_start snippet "$tail
[plugins.\"io.containerd.grpc.v1.cri\".cni]
  bin_dir = \"$t/cni-bin\"
  conf_dir = \"$t/cni-conf\""
  assert_success
  run grep -F "kist:{Type:io.containerd.runc.v2" "$t/containerd.log"
  assert_success
  ctd_stop snippet
}

@test "containerd: ctr run times with kist and with runc (same image, same run)" {
  command -v runc >/dev/null || skip "runc is not installed"
  local n=10 i ns tk=0 tr=0 runc
  runc=$(command -v runc)
  # Interleaved, so that the machine's load weighs on both alike.
  for ((i = 0; i < n; i++)); do
    ns=$(integ_ns cr_run integ-time --rm -- true) || fail "ctr run with kist failed"
    tk=$((tk + ns))
    ns=$(CR_RUNTIME=$runc integ_ns cr_run integ-time --rm -- true) || fail "ctr run with runc failed"
    tr=$((tr + ns))
  done
  integ_report "ctr run --rm" $n $tk $tr
}
