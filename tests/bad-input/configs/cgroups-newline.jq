# expect: linux.cgroupsPath
.linux.cgroupsPath = "/kist/a\nb"
