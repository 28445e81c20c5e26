# command: run
# expect: process.cwd
.process.cwd = "/no/such/dir"
