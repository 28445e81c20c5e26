# expect: root.path
.root.path = ($tmp + "/file")
