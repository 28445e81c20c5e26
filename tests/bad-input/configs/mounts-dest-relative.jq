# expect: is not an absolute path
.mounts += [{"destination": "tmp/x", "type": "tmpfs", "source": "tmpfs"}]
