# expect: a bind mount needs a source
.mounts += [{"destination": "/mnt", "type": "bind", "options": ["rbind"]}]
