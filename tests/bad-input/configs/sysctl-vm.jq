# expect: not isolated by a namespace
.linux.sysctl = {"vm.overcommit_memory": "1"}
