# expect: only a proc filesystem may be mounted on /proc
.mounts |= map(if .destination == "/proc" then {"destination": "/proc", "type": "tmpfs", "source": "tmpfs"} else . end)
