# expect: not allowed
.mounts += [{"destination": "/proc/sysrq-trigger", "type": "bind", "source": ($tmp + "/file"), "options": ["bind"]}]
