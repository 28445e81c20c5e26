# expect: linux.namespaces
.linux.namespaces += [{"type": "pid"}]
