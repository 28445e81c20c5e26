# expect: NUL
.process.args = ["sh\u0000/../../evil", "-c", "true"]
