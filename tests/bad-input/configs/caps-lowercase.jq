# expect: unknown capability
.process.capabilities.effective += ["cap_sys_admin"]
