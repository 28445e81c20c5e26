# expect: must also be listed in permitted and inheritable
.process.capabilities.ambient = ["CAP_KILL"]
