# expect: /proc
.mounts += [{"destination": "/proc/./sys/kernel", "type": "tmpfs", "source": "tmpfs"}]
