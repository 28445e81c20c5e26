# expect: --console-socket
.process.terminal = true
