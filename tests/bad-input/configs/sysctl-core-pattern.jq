# expect: not isolated by a namespace
.linux.sysctl = {"kernel.core_pattern": "|/tmp/pwn"}
