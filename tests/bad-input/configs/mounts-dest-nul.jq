# A NUL would make kist and a policy checker read different paths.
# expect: NUL
.mounts += [{"destination": "/tmp\u0000/../proc/sys", "type": "tmpfs", "source": "tmpfs"}]
