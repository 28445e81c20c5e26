# expect: not a sysctl name
.linux.sysctl = {"net/ipv4/../../kernel/core_pattern": "|/tmp/pwn"}
