# expect: /proc
.mounts += [{"destination": "/./proc/sys", "type": "tmpfs", "source": "tmpfs"}]
