# expect: process.env[
.process.env += ["=value"]
