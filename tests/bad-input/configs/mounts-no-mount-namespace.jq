# expect: mount namespace
.linux.namespaces |= map(select(.type != "mount"))
