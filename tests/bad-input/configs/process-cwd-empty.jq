# expect: process.cwd
.process.cwd = ""
