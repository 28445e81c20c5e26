# expect: not allowed
.mounts += [{"destination": "/proc/1/attr/current", "type": "bind", "source": ($tmp + "/file"), "options": ["bind"]}]
