# A uts namespace file given as the network namespace.
# expect: network
.linux.namespaces |= map(if .type == "network" then {"type": "network", "path": "/proc/self/ns/uts"} else . end)
