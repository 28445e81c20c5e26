# expect: linux.cgroupsPath
.linux.cgroupsPath = "/kist/./x"
