# expect: process.rlimits
.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}, {"type": "RLIMIT_NOFILE", "soft": 64, "hard": 64}]
