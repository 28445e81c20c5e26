# expect: linux.sysctl
.linux.sysctl = {"": "1"}
