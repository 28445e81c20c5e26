# Joining the host network namespace and setting a net.* sysctl would set the
# host's. (The value is the host's current one, so a failure changes nothing.)
# expect: host
.linux.namespaces |= map(if .type == "network" then {"type": "network", "path": "/proc/self/ns/net"} else . end)
| .linux.sysctl = {"net.ipv4.ping_group_range": $ping}
