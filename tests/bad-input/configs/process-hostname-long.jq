# expect: hostname
.hostname = ("h" * 65)
