# expect: mounting over /proc/sys is not allowed
.mounts += [{"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}]
