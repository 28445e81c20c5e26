# expect: linux.maskedPaths[
.linux.maskedPaths += [""]
