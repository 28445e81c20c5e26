# A namespace path that is a fifo: opening it must not block kist.
# expect: linux.namespaces[
.linux.namespaces |= map(if .type == "network" then {"type": "network", "path": ($tmp + "/fifobundle/config.json")} else . end)
