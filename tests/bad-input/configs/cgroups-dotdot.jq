# expect: linux.cgroupsPath
.linux.cgroupsPath = "../../../escape"
