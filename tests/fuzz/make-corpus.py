#!/usr/bin/env python3
"""Writes the seed corpus kept in the repository, tests/fuzz/corpus/<target>/:
a few dozen small inputs per target, each aimed at one parser path. Run it
after changing a target's input format; libFuzzer's own finds are not kept.

    python3 tests/fuzz/make-corpus.py
"""
import copy
import json
import os
import shutil

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus")

BASE = {
    "ociVersion": "1.3.0",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
                "env": ["PATH=/bin"], "cwd": "/",
                "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                                 "permitted": ["CAP_KILL"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": True},
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "h",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "mode=755", "size=65536k"]}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}],
              "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]},
}


def cfg(edit):
    c = copy.deepcopy(BASE)
    edit(c)
    return json.dumps(c, separators=(",", ":")).encode()


def linux(**kw):
    return lambda c: c["linux"].update(kw)


def proc(**kw):
    return lambda c: c["process"].update(kw)


def mounts(*m):
    return lambda c: c["mounts"].extend(m)


configs = {
    "base": cfg(lambda c: None),
    "minimal": b'{"ociVersion":"1.0.0","root":{"path":"r"}}',
    "no-process": cfg(lambda c: c.pop("process")),
    "bind-ro": cfg(mounts({"destination": "/data", "type": "bind", "source": "/tmp",
                           "options": ["rbind", "ro", "nosuid", "rprivate"]})),
    "idmapped": cfg(mounts({"destination": "/m", "type": "bind", "source": "/tmp",
                            "options": ["bind", "idmap"], "uidMappings": [
                                {"containerID": 0, "hostID": 1000, "size": 1}]})),
    "proc-bind": cfg(mounts({"destination": "/proc/meminfo", "type": "bind",
                             "source": "/var/lib/lxcfs/proc/meminfo", "options": ["bind"]})),
    "proc-sys-tmpfs": cfg(mounts({"destination": "/proc/sys", "type": "tmpfs",
                                  "source": "tmpfs"})),
    "dotdot-dest": cfg(mounts({"destination": "/a/../../etc", "type": "tmpfs",
                               "source": "tmpfs", "options": ["rro", "mode=1777"]})),
    "relative-dest": cfg(mounts({"destination": "a/b", "type": "tmpfs", "source": "x"})),
    "devices": cfg(linux(devices=[
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438,
         "uid": 0, "gid": 0},
        {"path": "/dev/../x", "type": "b", "major": 8, "minor": 0},
        {"path": "/dev/p", "type": "p"}])),
    "device-cgroup": cfg(linux(resources={"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": -1, "access": "rw"}]})),
    "resources": cfg(linux(resources={
        "memory": {"limit": 1 << 30, "reservation": -1, "swap": 9223372036854775807,
                   "disableOOMKiller": True},
        "cpu": {"shares": 1024, "quota": -1, "period": 100000, "cpus": "0-3,7",
                "mems": "0", "idle": 1},
        "pids": {"limit": 0},
        "blockIO": {"weight": 10, "throttleReadBpsDevice": [
            {"major": 8, "minor": 0, "rate": 18446744073709551615}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 1}],
        "unified": {"memory.high": "max", "../x": "1"}})),
    "cgroups-path": cfg(linux(cgroupsPath="/kist/a/b")),
    "cgroups-path-dotdot": cfg(linux(cgroupsPath="../../x")),
    "cgroups-path-systemd": cfg(linux(cgroupsPath="system.slice:kist:abc")),
    "sysctl": cfg(linux(sysctl={"net.ipv4.ip_forward": "1", "kernel.shmmax": "1",
                                "vm.overcommit_memory": "1", "fs.mqueue.queues_max": "5",
                                "net/ipv4/conf/all/forwarding": "1"})),
    "userns": cfg(linux(namespaces=[{"type": "user"}, {"type": "mount"}],
                        uidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}],
                        gidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}])),
    "ns-dup": cfg(linux(namespaces=[{"type": "pid"}, {"type": "pid"}, {"type": "time"}],
                        timeOffsets={"monotonic": {"secs": 1, "nanosecs": 1000000001}})),
    "ns-path": cfg(linux(namespaces=[{"type": "network", "path": "/proc/self/ns/net"}])),
    "caps-bad": cfg(proc(capabilities={"bounding": ["CAP_SYS_ADMIN", "CAP_NOPE", "cap_kill"],
                                       "ambient": ["CAP_KILL"], "inheritable": []})),
    "rlimits": cfg(proc(rlimits=[{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2},
                                 {"type": "RLIMIT_BOGUS", "hard": 0, "soft": 0},
                                 {"type": "RLIMIT_NOFILE", "hard": 3, "soft": 3}])),
    "user": cfg(proc(user={"uid": 4294967295, "gid": 0, "umask": 511,
                           "additionalGids": [0, 4294967294]})),
    "scheduler": cfg(proc(scheduler={"policy": "SCHED_DEADLINE", "runtime": 1, "deadline": 0,
                                     "period": 1, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
                          ioPriority={"class": "IOPRIO_CLASS_RT", "priority": 8},
                          oomScoreAdj=-1001)),
    "exec-cpu": cfg(proc(execCPUAffinity={"initial": "0-1", "final": "9999999999"})),
    "hooks": cfg(lambda c: c.update(hooks={
        "prestart": [{"path": "relative/hook", "args": ["h"], "timeout": 0}],
        "poststop": [{"path": "/bin/true", "env": ["A=B"], "timeout": -1}]})),
    "seccomp": cfg(linux(seccomp={
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [{"names": ["read", "nosuchcall"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                               {"index": 7, "value": 1, "valueTwo": 2,
                                "op": "SCMP_CMP_MASKED_EQ"}]}]})),
    "seccomp-notify": cfg(linux(seccomp={
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x.sock",
        "listenerMetadata": "m",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})),
    "lsm": cfg(lambda c: (c["process"].update(apparmorProfile="p",
                                              selinuxLabel="system_u:system_r:t:s0"),
                          c["linux"].update(mountLabel="x:y", intelRdt={"closID": "../x"}))),
    "terminal": cfg(proc(terminal=True, consoleSize={"height": 0, "width": 65535})),
    "annotations": cfg(lambda c: c.update(annotations={"a": "b", "k\u00e9y": "v\n",
                                                       "": ""})),
    "masked-odd": cfg(linux(maskedPaths=["relative", "/proc/../etc", "/"],
                            readonlyPaths=["//proc//sys/"])),
    "propagation": cfg(linux(rootfsPropagation="rshared")),
    "personality": cfg(linux(personality={"domain": "LINUX32", "flags": []})),
    "deep": b'{"annotations":' + b'{"a":' * 64 + b'1' + b'}' * 64 + b'}',
    "numbers": b'{"ociVersion":"1.3.0","process":{"user":{"uid":-0,"gid":1e3},'
               b'"args":["a"],"cwd":"/"},"root":{"path":"r"}}',
    "escapes": b'{"ociVersion":"1.3.0","root":{"path":"\\u0072\\/x"},'
               b'"hostname":"\\ud83d\\ude00\\n"}',
    "dup-key": b'{"ociVersion":"1.3.0","root":{"path":"a"},"root":{"path":"b"}}',
    "nul": b'{"ociVersion":"1.3.0","root":{"path":"a\\u0000b"}}',
}

states = {
    "created": b'{"ociVersion":"1.3.0","id":"c1","status":"created","pid":4242,'
               b'"starttime":123456,"bundle":"/b","rootfs":"/b/rootfs",'
               b'"created":"2026-01-01T00:00:00.000000000Z","owner":0,"flags":3,'
               b'"annotations":{"a":"b","k\\u00e9y":"v\\n"}}',
    "extremes": b'{"status":"running","pid":-1,"starttime":18446744073709551615,'
                b'"owner":4294967296}',
    "odd": b'{"status":"stopped","annotations":{"x":1,"y":null,"z":["q"]}}',
    "paused": b'{"ociVersion":"1.3.0","id":"p","status":"paused","pid":1,"starttime":0}',
    "creating": b'{"status":"creating"}',
    "unknown-status": b'{"status":"zombie","pid":2147483647}',
    "wrong-types": b'{"status":7,"pid":"x","bundle":[],"rootfs":{},"owner":-1,"flags":-1}',
    "empty-object": b'{}',
    "array": b'[1,2]',
    "truncated": b'{"status":"running","pid":',
    "empty": b'',
    "garbage": b'not json',
    "long-strings": b'{"bundle":"' + b'b' * 2000 + b'","created":"' + b'\\u0001' * 50 + b'"}',
    "control-chars": b'{"id":"\\u0000","bundle":"\\t\\r\\b\\f","rootfs":"\\"\\\\"}',
    "many-annotations": b'{"annotations":{' + b','.join(
        b'"k%d":"v%d"' % (i, i) for i in range(40)) + b'}}',
    "dup-keys": b'{"pid":1,"pid":2,"annotations":{"a":"1","a":"2"}}',
    "nested": b'{"annotations":{"a":{"b":{"c":{}}}}}',
    "floats": b'{"pid":1.5,"starttime":1e308,"owner":-0.0}',
}

# fuzz-parsers: a selector byte, then the string (0x1f separates parts).
parsers = []
def p(sel, s):
    parsers.append(bytes([sel]) + s.encode("utf-8", "surrogatepass"))

for s in ["my-container_1.2", "../etc", ".", "..", "a" * 1025, "a/b", "", "é", "a\nb"]:
    p(0, s)
for s in ["SIGTERM", "TERM", "sigkill", "RTMIN+3", "SIGRTMAX-1", "RTMIN+99", "15", "0", "65",
          "-9", "SIGRTMIN", "9x"]:
    p(1, s)
for s in ["0-3,7, 9 - 11", "", "3-1", "0-99999999999", ",", "1,,2", "0-"]:
    p(2, s)
for s in ["net.ipv4.ip_forward", "kernel.shmmax", "kernel.msgmax", "fs.mqueue.queues_max",
          "net/ipv4/conf/all/forwarding", "vm.swappiness", "net..x", "kernel.domainname"]:
    p(3, s)
for s in ["/kist/a/b", "a//b/../c", "/", "relative/x", "/a/./b", "/x\ny"]:
    p(4, s)
for s in ["system.slice:kist:abc", "a-b-c.slice:p:n", "::", "x.slice:", "-.slice:a:b",
          "a.slice:b:c:d", "user-1000.slice:kist:../x"]:
    p(5, s)
U = "\x1f"
for parts in [["/proc", "proc", "proc"],
              ["/proc/meminfo", "bind", "/var/lib/lxcfs/proc/meminfo", "rbind"],
              ["/mnt", "tmpfs", "tmpfs", "nosuid", "rro", "mode=755"],
              ["/proc/sys", "tmpfs", "tmpfs"],
              ["//proc/./self/attr", "bind", "/tmp", "bind"],
              ["/data", "bind", "/tmp", "ro", "rshared", "idmap", "recursive", "nosymfollow"],
              ["/x", "overlay", "overlay", "lowerdir=/a:/b", "upperdir=/u", "workdir=/w"],
              ["/y", "tmpfs", "tmpfs", "size=1E", "mode=99999", "uid=-1", "noatime,ro"],
              ["relative", "none", ""],
              ["/proc", "bind", "/proc", "rbind"]]:
    p(6, U.join(parts))
for s in ["CAP_SYS_ADMIN", "CAP_", "cap_kill", "CAP_LAST_CAP", "CAP_CHECKPOINT_RESTORE",
          "SYS_ADMIN"]:
    p(7, s)
for s in ["-9223372036854775808", "18446744073709551615", "18446744073709551616", "+1",
          "-0", " 1", "1 ", "0x10", ""]:
    p(8, s)


def write(target, items):
    d = os.path.join(out, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in items:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("fuzz-config", sorted(configs.items()))
write("fuzz-validate", sorted(configs.items()))
write("fuzz-state", sorted(states.items()))
write("fuzz-parsers", [("s%02d" % i, d) for i, d in enumerate(parsers)])
for t in sorted(os.listdir(out)):
    print("%s: %d files" % (t, len(os.listdir(os.path.join(out, t)))))
