# expect: linux.devices[0].path
.linux.devices = [{"path": "dev/evil", "type": "c", "major": 1, "minor": 3}]
