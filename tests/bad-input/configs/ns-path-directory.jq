# expect: linux.namespaces[
.linux.namespaces |= map(if .type == "uts" then {"type": "uts", "path": "/proc/self/ns"} else . end)
