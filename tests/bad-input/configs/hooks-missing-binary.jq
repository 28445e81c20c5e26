# expect: hook
.hooks = {"createRuntime": [{"path": "/no/such/hook"}]}
