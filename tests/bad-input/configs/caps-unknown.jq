# expect: unknown capability
.process.capabilities.bounding += ["CAP_FOO"]
