# expect: root.path
.root.path = "/dev/null"
