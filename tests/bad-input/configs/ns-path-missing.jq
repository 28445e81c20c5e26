# expect: /no/such/ns
.linux.namespaces |= map(if .type == "network" then {"type": "network", "path": "/no/such/ns"} else . end)
