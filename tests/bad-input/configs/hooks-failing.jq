# expect: hook
.hooks = {"createRuntime": [{"path": "/bin/false"}]}
