# expect: process.ioPriority
.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}
