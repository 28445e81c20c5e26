# expect: mounts[
.mounts += [{"destination": "/mnt", "type": "no-such-filesystem", "source": "x"}]
