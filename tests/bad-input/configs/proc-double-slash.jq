# A prefix check on "/proc/" misses this spelling of /proc/sys.
# expect: /proc
.mounts += [{"destination": "//proc/sys", "type": "tmpfs", "source": "tmpfs"}]
