# expect: needs a uts namespace
.linux.namespaces |= map(select(.type != "uts")) | .hostname = "box"
