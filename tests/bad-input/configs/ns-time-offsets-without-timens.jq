# expect: linux.timeOffsets
.linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0}}
