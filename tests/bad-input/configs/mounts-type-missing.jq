# expect: type: missing
.mounts += [{"destination": "/mnt", "source": "tmpfs"}]
