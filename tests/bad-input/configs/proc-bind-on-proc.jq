# expect: /proc
.mounts |= map(if .destination == "/proc" then {"destination": "/proc", "type": "bind", "source": $tmp, "options": ["rbind"]} else . end)
