# expect: linux.devices[0]
.linux.devices = [{"path": "/dev/evil", "type": "c"}]
