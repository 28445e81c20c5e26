# expect: destination
.mounts += [{"destination": "", "type": "tmpfs", "source": "tmpfs"}]
