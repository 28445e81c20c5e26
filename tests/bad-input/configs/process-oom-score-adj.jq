# expect: process.oomScoreAdj
.process.oomScoreAdj = 1001
