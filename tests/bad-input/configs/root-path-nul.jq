# expect: NUL
.root.path = ($rootfs + "\u0000/../../..")
