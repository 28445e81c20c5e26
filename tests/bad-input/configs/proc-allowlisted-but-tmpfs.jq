# Only bind mounts may go on the lxcfs-style files.
# expect: not allowed
.mounts += [{"destination": "/proc/meminfo", "type": "tmpfs", "source": "tmpfs"}]
