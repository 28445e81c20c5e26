# expect: not allowed
.mounts += [{"destination": "/proc/sys/", "type": "tmpfs", "source": "tmpfs"}]
