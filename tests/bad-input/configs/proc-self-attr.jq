# expect: mounting over /proc/self/attr is not allowed
.mounts += [{"destination": "/proc/self/attr", "type": "tmpfs", "source": "tmpfs"}]
