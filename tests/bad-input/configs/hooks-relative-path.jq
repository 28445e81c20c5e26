# expect: hooks.
.hooks = {"prestart": [{"path": "hook.sh"}]}
