# expect: needs an ipc namespace
.linux.namespaces |= map(select(.type != "ipc")) | .linux.sysctl = {"kernel.shmmni": "1234"}
