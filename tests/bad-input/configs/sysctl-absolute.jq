# expect: not a sysctl name
.linux.sysctl = {"/proc/sys/kernel/core_pattern": "|/tmp/pwn"}
