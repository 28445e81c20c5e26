#!/usr/bin/python3
"""A minimal CRI client (no kubelet, no crictl in Debian): runs one pod
through containerd's CRI plugin with a given runtime handler, the way a
kubelet does for a pod with runtimeClassName, and removes it again.

    cri-pod.py SOCKET HANDLER IMAGE LOGDIR CGROUP-PARENT

Prints "sandbox ID", "container ID" and "exec: OUTPUT" lines; exits non-zero
with the gRPC error on failure. The pod is removed whatever happens.

The few CRI (runtime.v1) messages it needs are encoded by hand: field
numbers from k8s.io/cri-api's api.proto.
"""
import sys

import grpc

SERVICE = "/runtime.v1.RuntimeService/"
NODE = 2  # NamespaceMode.NODE: host network, so no CNI is needed


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    """One protobuf field: int (varint), str/bytes, or a nested message (bytes)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(field(n, v) for n, v in fields if v is not None)


def parse(data):
    """{field number: [values]} of one message (varints and bytes only)."""
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(data, i)
        elif wt == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        elif wt == 1:
            v, i = data[i:i + 8], i + 8
        elif wt == 5:
            v, i = data[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def main():
    sock, handler, image, logdir, cgroup_parent = sys.argv[1:6]
    ch = grpc.insecure_channel("unix://" + sock)

    def call(method, body):
        fn = ch.unary_unary(SERVICE + method, request_serializer=None,
                            response_deserializer=None)
        return parse(fn(body, timeout=60))

    ns_opts = msg((1, NODE))  # host network; pid and ipc: the pod's
    sandbox_config = msg(
        (1, msg((1, "kist-pod"), (2, "kist-pod-uid"), (3, "default"), (4, 0))),
        # No hostname: a host-network pod has the host's UTS namespace (the
        # kubelet sets none either).
        (3, logdir),
        (8, msg((1, cgroup_parent), (2, msg((1, ns_opts))))),
    )
    sandbox = call("RunPodSandbox", msg((1, sandbox_config), (2, handler)))[1][0].decode()
    print("sandbox", sandbox, flush=True)
    rc = 1
    try:
        config = msg(
            (1, msg((1, "hello"), (2, 0))),
            (2, msg((1, image))),
            (3, "sh"), (3, "-c"), (3, "echo hello from the pod; sleep 1000"),
            (11, "hello.log"),
        )
        ctr = call("CreateContainer", msg((1, sandbox), (2, config), (3, sandbox_config)))
        ctr = ctr[1][0].decode()
        print("container", ctr, flush=True)
        try:
            call("StartContainer", msg((1, ctr)))
            res = call("ExecSync", msg((1, ctr), (2, "sh"), (2, "-c"),
                                       (2, "echo exec in the pod; cat /proc/1/cmdline"),
                                       (3, 30)))
            out = b"".join(res.get(1, [])).replace(b"\0", b" ").decode().strip()
            code = res.get(3, [0])[0]
            print("exec:", out.replace("\n", " | "), "(exit %d)" % code, flush=True)
            rc = 0 if code == 0 else 1
        finally:
            call("StopContainer", msg((1, ctr), (2, 2)))
            call("RemoveContainer", msg((1, ctr)))
    finally:
        call("StopPodSandbox", msg((1, sandbox)))
        call("RemovePodSandbox", msg((1, sandbox)))
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print("cri-pod.py: %s: %s" % (e.code(), e.details()), file=sys.stderr)
        sys.exit(1)
