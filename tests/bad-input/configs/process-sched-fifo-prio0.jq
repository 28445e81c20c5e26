# expect: process.scheduler
.process.scheduler = {"policy": "SCHED_FIFO", "priority": 0}
