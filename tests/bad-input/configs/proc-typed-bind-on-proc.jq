# "type": "proc" with a bind option binds a host directory as /proc.
# expect: /proc
.mounts |= map(if .destination == "/proc" then {"destination": "/proc", "type": "proc", "source": $tmp, "options": ["rbind"]} else . end)
