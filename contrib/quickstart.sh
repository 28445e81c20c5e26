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
if [ -f config.status ]; then
  echo "quickstart.sh: the source tree itself is configured; builds go in build/." >&2
  echo "quickstart.sh: run 'make distclean' in $PWD first." >&2
  exit 1
fi
[ -x configure ] || ./autogen.sh
mkdir -p build
if [ ! -f build/Makefile ]; then
  if ! (cd build && ../configure) >build/configure.out 2>&1; then
    tail -n 30 build/configure.out >&2
    echo "quickstart.sh: configure failed (full output: build/configure.out)" >&2
    exit 1
  fi
fi
make -C build -j2 -s

step "demo (make -C build demo)"
make -C build -s demo

printf '\nkist is built: build/kist --help.  Run the tests with: tests/run-all.sh\n'
