# expect: linux.namespaces[
.linux.namespaces |= map(if .type == "network" then {"type": "network", "path": "/etc/passwd"} else . end)
