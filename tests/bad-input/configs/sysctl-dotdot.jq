# expect: not a sysctl name
.linux.sysctl = {"net/../kernel/core_pattern": "|/tmp/pwn"}
