#!/bin/sh
# Regenerate the autotools files (configure, Makefile.in) from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=none >/dev/null
