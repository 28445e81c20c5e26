# expect: source
.mounts += [{"destination": "/mnt", "type": "bind", "source": ($tmp + "/no/such/dir"), "options": ["rbind"]}]
