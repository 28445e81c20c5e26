# expect: /proc
.mounts += [{"destination": "/dev/../proc/sys", "type": "tmpfs", "source": "tmpfs"}]
