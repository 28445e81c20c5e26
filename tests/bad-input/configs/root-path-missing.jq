# expect: root.path
.root.path = ($tmp + "/no/such/rootfs")
