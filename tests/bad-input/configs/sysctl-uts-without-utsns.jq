# expect: needs a uts namespace
.linux.namespaces |= map(select(.type != "uts")) | del(.hostname) | .linux.sysctl = {"kernel.domainname": "x"}
