# expect: unknown capability
.process.capabilities.permitted += ["21"]
