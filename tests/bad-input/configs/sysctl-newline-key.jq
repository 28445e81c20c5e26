# A key with a newline passes as "net.*" and breaks the one-line error rule.
# expect: linux.sysctl
.linux.sysctl = {"net.ipv4.ip_forward\nkernel.core_pattern": "1"}
