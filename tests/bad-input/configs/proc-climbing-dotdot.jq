# expect: /proc
.mounts += [{"destination": "/mnt/../../../../../../proc/sys", "type": "tmpfs", "source": "tmpfs"}]
