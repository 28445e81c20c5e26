# expect: linux.cgroupsPath
.linux.cgroupsPath = "/kist/../../../../escape"
