# expect: unknown capability
.process.capabilities.permitted += ["CAP_SYS_ADMIN,CAP_NET_ADMIN"]
