# expect: not mapped
.linux.namespaces += [{"type": "user"}]
| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}]
| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}]
| .process.user = {"uid": 5000, "gid": 0}
