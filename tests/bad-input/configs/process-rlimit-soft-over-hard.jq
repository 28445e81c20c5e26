# expect: process.rlimits
.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]
