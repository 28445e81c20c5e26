# expect: linux.readonlyPaths[
.linux.readonlyPaths += ["proc/sys"]
