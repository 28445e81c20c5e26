# expect: process.execCPUAffinity
.process.execCPUAffinity = {"initial": "0-99999999"}
