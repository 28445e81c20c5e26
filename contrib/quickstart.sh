#!/bin/bash
# From a fresh clone to a running container: installs the dependencies,
# builds kist in build/ and runs the demo (contrib/demo/).  Run as root.
#
#   contrib/quickstart.sh
#
# Re-running it is cheap: installed packages, an existing configure and an
# up-to-date build are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "quickstart.sh: run as root (it installs packages and starts a container): sudo $0" >&2
  exit 1
fi

step "dependencies (contrib/deps.sh)"
bash contrib/deps.sh

step "build (build/)"
[ -x configure ] || ./autogen.sh
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure)
make -C build -j2 -s

step "demo (make -C build demo)"
make -C build -s demo

printf '\nkist is built: build/kist --help.  Run the tests with: tests/run-all.sh\n'
