# expect: process.scheduler
.process.scheduler = {"policy": "SCHED_DEADLINE"}
