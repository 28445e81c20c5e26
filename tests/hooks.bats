#!/usr/bin/env bats
# OCI hooks: order across create/start/delete, the state on stdin, args and
# env, inherited stdio but no other fds, timeouts, and what a failing hook
# does at each stage.

load helpers
bats_require_minimum_version 1.5.0

# kist_out ARGS...: like `run kist ARGS...`, but kist's stdio is a file: a
# created container's init keeps the stdio it was given until its process
# exits, so a pipe (what `run` reads) would never close.
kist_out() {
  local out=$BATS_TEST_TMPDIR/kist.out rc=0
  kist "$@" >"$out" 2>&1 </dev/null || rc=$?
  run bash -c 'cat "$1"; exit "$2"' _ "$out" "$rc"
}

setup() {
  # The process waits for /go so that poststart sees it running.
  setup_bundle sh -c 'while [ ! -e /go ]; do sleep 0.05; done'
  ID=kh$BATS_TEST_NUMBER-$$
  BUNDLE=$(realpath "$BUNDLE")
  # One log for every stage. Hooks in the runtime's namespaces (and
  # createContainer, which runs before pivot_root) reach it by its host path;
  # startContainer runs inside the container and sees it as /hooks.
  LOG=$BUNDLE/rootfs/hooks
  mkdir -p "$LOG"
  # hook STAGE LOGDIR: appends STAGE to LOGDIR/order, saves stdin as
  # LOGDIR/STAGE.json and the args/env it got as LOGDIR/STAGE.env.
  cat >"$BATS_TEST_TMPDIR/hook" <<'EOF'
#!/bin/sh
echo "$1" >>"$2/order"
/bin/cat >"$2/$1.json"
echo "argc=$# env=$(/usr/bin/env | /usr/bin/sort | /usr/bin/tr '\n' ' ')" >"$2/$1.env"
EOF
  chmod 755 "$BATS_TEST_TMPDIR/hook"
  HOOK=$BATS_TEST_TMPDIR/hook
  # The in-container copy uses the rootfs's busybox.
  sed -e 's|/usr/bin/env|/bin/env|; s|/usr/bin/sort|/bin/sort|; s|/usr/bin/tr|/bin/tr|' \
    "$HOOK" >"$BUNDLE/rootfs/hook"
  chmod 755 "$BUNDLE/rootfs/hook"
}

teardown() {
  common_teardown
}

# hook_json STAGE [PATH LOGDIR]: a hook object that logs STAGE.
hook_json() {
  local stage=$1 path=${2:-$HOOK} dir=${3:-$LOG}
  jq -cn --arg p "$path" --arg s "$stage" --arg d "$dir" '{path: $p, args: ["hook", $s, $d]}'
}

all_hooks() {
  set_config ".hooks = {
    prestart: [$(hook_json prestart)],
    createRuntime: [$(hook_json createRuntime)],
    createContainer: [$(hook_json createContainer)],
    startContainer: [$(hook_json startContainer /hook /hooks)],
    poststart: [$(hook_json poststart)],
    poststop: [$(hook_json poststop)]}"
}

order() {
  tr '\n' ' ' <"$LOG/order" | sed 's/ $//'
}

@test "hooks: every stage runs, in order, at create, start and delete" {
  all_hooks
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  [ "$(order)" = "prestart createRuntime createContainer" ]
  run kist start "$ID"
  assert_success
  [ "$(order)" = "prestart createRuntime createContainer startContainer poststart" ]
  touch "$BUNDLE/rootfs/go"
  wait_for_status "$ID" stopped
  [ "$(order)" = "prestart createRuntime createContainer startContainer poststart" ]
  run kist delete "$ID"
  assert_success
  [ "$(order)" = "prestart createRuntime createContainer startContainer poststart poststop" ]
  assert_root_empty
}

@test "hooks: the state on stdin has the right id, status, pid and bundle" {
  all_hooks
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  pid=$(kist state "$ID" | jq -r .pid)
  [ "$pid" -gt 0 ]
  kist start "$ID"
  touch "$BUNDLE/rootfs/go"
  wait_for_status "$ID" stopped
  kist delete "$ID"
  for stage in prestart createRuntime createContainer startContainer poststart poststop; do
    f=$LOG/$stage.json
    [ "$(jq -r .id "$f")" = "$ID" ] || { echo "$stage: id $(jq -r .id "$f")"; false; }
    [ "$(jq -r .bundle "$f")" = "$BUNDLE" ] || { echo "$stage: bundle $(jq -r .bundle "$f")"; false; }
    [ "$(jq -r .ociVersion "$f")" != null ]
  done
  for stage in prestart createRuntime createContainer startContainer poststart; do
    [ "$(jq -r .pid "$LOG/$stage.json")" = "$pid" ] || {
      echo "$stage: pid $(jq -r .pid "$LOG/$stage.json"), wanted $pid"
      false
    }
  done
  for stage in prestart createRuntime createContainer; do
    [ "$(jq -r .status "$LOG/$stage.json")" = creating ]
  done
  [ "$(jq -r .status "$LOG/startContainer.json")" = created ]
  [ "$(jq -r .status "$LOG/poststart.json")" = running ]
  [ "$(jq -r .status "$LOG/poststop.json")" = stopped ]
}

@test "hooks: args and env are exactly the hook's" {
  set_config ".hooks.prestart = [{path: \"$HOOK\", args: [\"hook\", \"prestart\", \"$LOG\", \"extra\"],
      env: [\"FOO=bar\", \"X=1\"]}]
    | .hooks.createRuntime = [$(hook_json createRuntime)]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  run cat "$LOG/prestart.env"
  # $# counts the args after argv[0]; env has only what the hook lists
  # (plus PWD, which sh itself sets).
  assert_output --regexp '^argc=3 env=FOO=bar (PWD=[^ ]* )?X=1 $'
  run cat "$LOG/createRuntime.env"
  assert_output --regexp '^argc=2 env=(PWD=[^ ]* )?$'
}

@test "hooks: a hook without args gets its path as argv[0]" {
  cat >"$BATS_TEST_TMPDIR/argv0" <<EOF
#!/bin/sh
echo "\$0" >"$LOG/argv0"
EOF
  chmod 755 "$BATS_TEST_TMPDIR/argv0"
  set_config ".hooks.prestart = [{path: \"$BATS_TEST_TMPDIR/argv0\"}]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  [ "$(cat "$LOG/argv0")" = "$BATS_TEST_TMPDIR/argv0" ]
}

@test "hooks: stdout and stderr reach kist's, no other fd is inherited" {
  set_config '.hooks.prestart = [{path: "/bin/sh",
      args: ["sh", "-c", "echo hook-out; echo hook-err >&2; ls /proc/self/fd | tr \"\\n\" \" \""]}]'
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  assert_line hook-out
  assert_line hook-err
  # 0-2 and the directory ls reads.
  assert_line "0 1 2 3 "
}

@test "hooks: a hook that runs past its timeout is killed and create fails" {
  set_config '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]'
  start=$SECONDS
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "createRuntime hook #0 (/bin/sleep) timed out after 1s"
  [ $((SECONDS - start)) -lt 10 ]
  assert_root_empty
}

@test "hooks: a timeout also kills what the hook started" {
  hook=$(jq -cn --arg s "sleep 30 & echo \$! > $LOG/bg; wait" \
    '{path: "/bin/sh", timeout: 1, args: ["sh", "-c", $s]}')
  set_config ".hooks.prestart = [$hook]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "prestart hook #0 (/bin/sh) timed out after 1s"
  bg=$(cat "$LOG/bg")
  [ -n "$bg" ]
  # Reaped by init (or us) shortly after the SIGKILL: gone, not a zombie.
  for _ in $(seq 50); do
    kill -0 "$bg" 2>/dev/null || break
    sleep 0.1
  done
  run kill -0 "$bg"
  assert_failure
  assert_root_empty
}

@test "hooks: a zero timeout is refused before anything runs" {
  set_config ".hooks.prestart = [$(hook_json prestart)]
    | .hooks.poststart = [{path: \"/bin/true\", timeout: 0}]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  # The config parser already enforces the schema's minimum of 1.
  assert_output --partial "hooks.poststart[0].timeout: 0"
  [ ! -e "$LOG/order" ]
  assert_root_empty
}

@test "hooks: a relative hook path is refused" {
  set_config '.hooks.prestart = [{path: "true"}]'
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "hooks.prestart[0].path: 'true' is not an absolute path"
  assert_root_empty
}

@test "hooks: a failing prestart, createRuntime or createContainer hook fails create and leaves nothing" {
  for stage in prestart createRuntime createContainer; do
    rm -f "$LOG/order"
    set_config "del(.hooks) | .hooks.$stage = [$(hook_json $stage), {path: \"/bin/sh\",
        args: [\"sh\", \"-c\", \"exit 3\"]}, $(hook_json never)]
      | .hooks.poststop = [$(hook_json poststop)]"
    kist_out create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "$stage hook #1 (/bin/sh) exited with status 3"
    assert_root_empty
    run kist state "$ID"
    assert_failure
    # The hooks after the failing one do not run; per the spec the
    # lifecycle continues with destroying the container and poststop.
    [ "$(order)" = "$stage poststop" ] || { echo "$stage: order '$(order)'"; false; }
  done
}

@test "hooks: a hook killed by a signal fails create, naming the signal" {
  set_config '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "kill -9 $$"]}]'
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "prestart hook #0 (/bin/sh) killed by signal 9"
  assert_root_empty
}

@test "hooks: a missing hook binary fails create" {
  set_config '.hooks.createRuntime = [{path: "/no/such/hook"}]'
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "createRuntime hook #0 (/no/such/hook): exec: No such file or directory"
  assert_root_empty
}

@test "hooks: a failing startContainer hook fails start and leaves nothing" {
  set_config ".hooks.startContainer = [{path: \"/bin/false\"}]
    | .hooks.poststart = [$(hook_json poststart)]
    | .hooks.poststop = [$(hook_json poststop)]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  run kist start "$ID"
  assert_failure
  assert_output --partial "startContainer hook #0 (/bin/false) exited with status 1"
  assert_root_empty
  [ "$(order)" = poststop ]
}

@test "hooks: a failing poststart hook fails start, destroys the container and runs poststop" {
  # runtime-spec v1.3.0 lifecycle step 9: error, stop, then steps 12-13.
  set_config ".hooks.poststart = [{path: \"/bin/false\"}, $(hook_json never)]
    | .hooks.poststop = [$(hook_json poststop)]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  run kist start "$ID"
  assert_failure
  assert_output --partial "poststart hook #0 (/bin/false) exited with status 1"
  [ "$(order)" = poststop ] || { echo "order '$(order)'"; false; }
  run kist state "$ID"
  assert_failure
  assert_root_empty
}

@test "hooks: a failing poststop hook is a warning; delete succeeds and later hooks run" {
  set_config ".hooks.poststop = [{path: \"/bin/false\"}, $(hook_json poststop)]"
  kist_out create --bundle "$BUNDLE" "$ID"
  assert_success
  kist start "$ID"
  touch "$BUNDLE/rootfs/go"
  wait_for_status "$ID" stopped
  run kist delete "$ID"
  assert_success
  assert_output --partial "poststop hook #0 (/bin/false) exited with status 1"
  [ "$(order)" = poststop ]
  assert_root_empty
}

@test "hooks: kist run runs every stage too" {
  all_hooks
  touch "$BUNDLE/rootfs/go"
  run kist run --bundle "$BUNDLE" "$ID"
  assert_success
  [ "$(order)" = "prestart createRuntime createContainer startContainer poststart poststop" ]
  assert_root_empty
}
