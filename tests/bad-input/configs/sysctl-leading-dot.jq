# expect: not a sysctl name
.linux.sysctl = {".net.ipv4.ip_forward": "1"}
