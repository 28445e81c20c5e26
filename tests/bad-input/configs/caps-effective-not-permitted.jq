# expect: not in the permitted set
.process.capabilities.effective += ["CAP_SYS_ADMIN"]
