# Shared by every .bats file: `load helpers` (or `load ../helpers` from a subdir).
#
# Each test gets its own state root ($KIST_ROOT) and bundle ($BUNDLE) under
# $BATS_TEST_TMPDIR and must leave nothing behind: call common_teardown from
# teardown().  A typical file:
#
#   load helpers
#   setup() { setup_bundle echo hello; }
#   teardown() { common_teardown; }
#   @test "echo" { run kist run --bundle "$BUNDLE" c1; assert_success; assert_output hello; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIST=${KIST:-$REPO/build/kist}
export REPO KIST

# Debian's bats-support and bats-assert (packages bats-support, bats-assert).
BATS_LIB_DIR=${BATS_LIB_DIR:-/usr/lib/bats}
if [ ! -f "$BATS_LIB_DIR/bats-assert/load.bash" ]; then
  echo "helpers.bash: $BATS_LIB_DIR/bats-assert missing: apt-get install bats-assert bats-support" >&2
  exit 1
fi
# `run --separate-stderr` and friends need bats >= 1.5 (Debian 12 has 1.8).
bats_require_minimum_version 1.5.0
load "$BATS_LIB_DIR/bats-support/load.bash"
load "$BATS_LIB_DIR/bats-assert/load.bash"

KIST_ROOT=$BATS_TEST_TMPDIR/state
BUNDLE=$BATS_TEST_TMPDIR/bundle
# The busybox rootfs is built once per bats run and copied into each bundle.
ROOTFS_CACHE=${KIST_ROOTFS_CACHE:-${BATS_RUN_TMPDIR:-/tmp}/kist-rootfs-cache}

# kist with this test's state root: `run kist create ...`.
kist() {
  "$KIST" --root "$KIST_ROOT" "$@"
}
# The same, under the name the design notes use.
kist_run() {
  "$KIST" --root "$KIST_ROOT" "$@"
}

# has_command NAME: this kist build has the command NAME.
has_command() {
  "$KIST" help "$1" >/dev/null 2>&1
}

# require_command NAME: skip the test (saying why) when kist lacks NAME.
require_command() {
  has_command "$1" || skip "kist has no '$1' command yet"
}

# The rootless lane (tests/rootless/run.sh) runs these files as an
# unprivileged user with KIST_ROOTLESS=1: setup_bundle then writes a
# `kist spec --rootless` config and skips the tests tests/rootless/skip.txt
# lists ("FILE|TEST NAME|why"); require_root skips one explicitly.
rootless_mode() {
  [ "${KIST_ROOTLESS:-}" = 1 ]
}

# require_root [WHY]: skip this test in the rootless lane, saying why.
require_root() {
  if rootless_mode; then
    skip "rootless: ${1:-needs root}"
  fi
}

# Skips the current test when tests/rootless/skip.txt lists it (rootless lane only).
rootless_skip_listed() {
  rootless_mode || return 0
  local why
  why=$(awk -F'|' -v f="$(basename "$BATS_TEST_FILENAME" .bats)" -v t="$BATS_TEST_DESCRIPTION" \
    '$1 == f && $2 == t { sub(/^[^|]*[|][^|]*[|]/, ""); print; exit }' \
    "$REPO/tests/rootless/skip.txt" 2>/dev/null)
  if [ -n "$why" ]; then
    skip "rootless: $why"
  fi
}

# The rootless lane's config: `kist spec --rootless` plus a network namespace
# (only lo) and, when the user has /etc/subuid and /etc/subgid ranges,
# container ids 1-65536 mapped onto them (through newuidmap/newgidmap), so
# that tests running as uid 1000 or with extra groups still work.
rootless_config() {
  local u g
  u=$(subid_range /etc/subuid)
  g=$(subid_range /etc/subgid)
  set_config '.linux.namespaces += [{type: "network"}]'
  if [ -n "$u" ] && [ -n "$g" ]; then
    set_config '.linux.uidMappings += [{containerID: 1, hostID: $u[0], size: $u[1]}]
      | .linux.gidMappings += [{containerID: 1, hostID: $g[0], size: $g[1]}]' \
      --argjson u "$u" --argjson g "$g"
  fi
}

# subid_range FILE: this user's first range in FILE as [start, size<=65536].
subid_range() {
  awk -F: -v u="$(id -un)" -v n="$(id -u)" '($1 == u || $1 == n) && NF >= 3 && $3 > 0 {
    print "[" $2 "," ($3 > 65536 ? 65536 : $3) "]"; exit }' "$1" 2>/dev/null
}

# The busybox rootfs, built once per bats run (flock: bats --jobs is safe).
rootfs_cache() {
  [ -e "$ROOTFS_CACHE/.kist-rootfs-complete" ] && return 0
  mkdir -p "$(dirname "$ROOTFS_CACHE")"
  (
    flock 9
    bash "$REPO/contrib/demo/make-rootfs.sh" "$ROOTFS_CACHE" >&2
  ) 9>"$ROOTFS_CACHE.lock"
}

# copy_rootfs DIR: a fresh copy of the busybox rootfs at DIR.
copy_rootfs() {
  rootfs_cache
  rm -rf "$1"
  cp -a "$ROOTFS_CACHE" "$1"
}

# A config like `kist spec` writes, for when this kist cannot write one.
spec_template() {
  cat <<'JSON'
{
  "ociVersion": "1.3.0",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "sh" ],
    "env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "kist",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] }
  ],
  "linux": {
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
      { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
    ],
    "maskedPaths": [ "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware" ],
    "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
  }
}
JSON
}

# setup_bundle [ARG...]: $BUNDLE with a fresh copy of the busybox rootfs and a
# config from `kist spec` (or spec_template), made non-interactive and writable;
# process.args = ARGs (default: true).
setup_bundle() {
  rootless_skip_listed
  mkdir -p "$BUNDLE"
  rm -f "$BUNDLE/config.json"
  copy_rootfs "$BUNDLE/rootfs"
  if rootless_mode; then
    "$KIST" spec --rootless --bundle "$BUNDLE"
    rootless_config
  elif ! "$KIST" spec --bundle "$BUNDLE" 2>/dev/null || [ ! -s "$BUNDLE/config.json" ]; then
    spec_template >"$BUNDLE/config.json"
  fi
  local args='["true"]'
  if [ $# -gt 0 ]; then
    args=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
  fi
  set_config ".process.terminal = false | .root.readonly = false | .process.args = $args"
}

# set_config FILTER [JQ-OPTION...]: edit $BUNDLE/config.json with jq in place,
# e.g. set_config '.hostname = $h' --arg h box1
set_config() {
  local filter=$1 tmp
  shift
  tmp=$(mktemp "$BUNDLE/config.XXXXXX")
  if ! jq "$@" "$filter" "$BUNDLE/config.json" >"$tmp"; then
    rm -f "$tmp"
    echo "set_config: jq failed on: $filter" >&2
    return 1
  fi
  mv "$tmp" "$BUNDLE/config.json"
}

# wait_for_status ID STATUS [TIMEOUT_SECONDS]
wait_for_status() {
  local id=$1 want=$2 timeout=${3:-10} i st=
  for ((i = 0; i < timeout * 20; i++)); do
    st=$(kist state "$id" 2>/dev/null | jq -r .status) || true
    [ "$st" = "$want" ] && return 0
    sleep 0.05
  done
  echo "container $id: status '$st', wanted '$want'" >&2
  return 1
}

# container_ids: the ids kist lists in $KIST_ROOT, plus any state directory
# `list` does not show (a half-made or corrupt one).
container_ids() {
  [ -d "$KIST_ROOT" ] || return 0
  {
    kist list -q 2>/dev/null || true
    find "$KIST_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' 2>/dev/null
  } | sort -u
}

# No container state left in this test's root.
assert_root_empty() {
  local left
  left=$(find "$KIST_ROOT" -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null || true)
  if [ -n "$left" ]; then
    echo "state left behind in $KIST_ROOT:" >&2
    printf '%s\n' "$left" | sed 's/^/  /' >&2
    return 1
  fi
}

# Deletes every container this test made, by id (never by process name).
cleanup_containers() {
  local id
  for id in $(container_ids); do
    kist delete --force "$id" >/dev/null 2>&1 || true
  done
}

# Mounts a failed test left under its temp dir would make bats' own cleanup
# (rm -rf) reach into them: report them and detach them.
cleanup_mounts() {
  local mp rc=0
  while read -r mp; do
    [ -n "$mp" ] || continue
    echo "mount left behind: $mp" >&2
    umount -l "$mp" 2>/dev/null || true
    rc=1
  done < <(awk -v d="$BATS_TEST_TMPDIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  return $rc
}

# For teardown(): delete this test's containers, then fail the test if
# anything (state, mounts) was left behind; the root is removed either way.
common_teardown() {
  local rc=0
  cleanup_containers
  assert_root_empty || rc=1
  cleanup_mounts || rc=1
  rm -rf "$KIST_ROOT"
  return $rc
}

# validate_json SCHEMA FILE: validate FILE against a runtime-spec JSON schema
# (draft 4) whose $refs name files in SCHEMA's directory, with
# python3-jsonschema; prints one line per violation and fails if any.
validate_json() {
  python3 - "$1" "$2" <<'PY'
import json, os, sys
import jsonschema
schema_path, doc_path = sys.argv[1], sys.argv[2]
schema_dir = os.path.dirname(os.path.abspath(schema_path))
docs = {}
for name in os.listdir(schema_dir):
    if name.endswith(".json"):
        with open(os.path.join(schema_dir, name)) as f:
            docs[name] = json.load(f)
schema = docs[os.path.basename(schema_path)]
with open(doc_path) as f:
    doc = json.load(f)
cls = jsonschema.validators.validator_for(schema)
try:  # jsonschema >= 4.18: a registry of the sibling files, by file name
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4
    registry = Registry().with_resources(
        (name, Resource.from_contents(d, default_specification=DRAFT4))
        for name, d in docs.items())
    validator = cls(schema, registry=registry)
except ImportError:  # Debian 12's jsonschema 4.10: a resolver with a file:// base
    base = "file://" + schema_dir + "/"
    store = {base + name: d for name, d in docs.items()}
    validator = cls(schema, resolver=jsonschema.RefResolver(base, schema, store=store))
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    path = "/".join(str(p) for p in e.absolute_path) or "(top)"
    print("%s: %s: %s" % (doc_path, path, e.message))
sys.exit(1 if errors else 0)
PY
}

# assert_one_line_error [SUBSTRING]: after `run --separate-stderr`, the command
# failed with status 1 and wrote exactly one line to stderr (containing SUBSTRING).
assert_one_line_error() {
  if [ "$status" -ne 1 ]; then
    fail "exit status $status, expected 1 (stderr: $stderr)"
    return 1
  fi
  if [ "${#stderr_lines[@]}" -ne 1 ]; then
    fail "expected one line on stderr, got ${#stderr_lines[@]}: $stderr"
    return 1
  fi
  if [ $# -gt 0 ] && [[ "$stderr" != *"$1"* ]]; then
    fail "stderr '$stderr' does not contain '$1'"
    return 1
  fi
}
