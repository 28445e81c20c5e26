# expect: linux.resources
.linux.resources.devices += [{"allow": true, "type": "z", "access": "rwm"}]
