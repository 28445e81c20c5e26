# command: run
# expect: process.cwd
.process.cwd = "/bin/busybox"
