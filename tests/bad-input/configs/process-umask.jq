# expect: process.user.umask
.process.user.umask = 512
