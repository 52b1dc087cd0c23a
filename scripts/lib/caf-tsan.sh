#!/usr/bin/env bash
# Builds CAF 0.17's core, io and openssl libraries from Debian's own source package
# with ThreadSanitizer into ~/.cache/scaf/caf-tsan (kept between runs and
# clones). Debian's CAF libraries are not instrumented, so TSan
# would report CAF's lock-free mailbox hand-off and the middleman's hand-offs
# as races; suppressing those would hide real races in scaf. The tsan test
# preset puts this build first on LD_LIBRARY_PATH (same library names as
# Debian's).
set -euo pipefail
source "$(dirname "$0")/common.sh"

prefix="$scaf_tsan_prefix"
stamp="$prefix/.built-from"
# A build from before scaf used caf::io and TLS lacks those libraries.
[ -f "$stamp" ] && [ -f "$prefix/lib/libcaf_openssl.so" ] && exit 0
rm -rf "$prefix"

scaf_install dpkg-dev cmake g++ ninja-build libssl-dev
if ! apt-cache showsrc actor-framework 2>/dev/null | grep -q "^Package:"; then
  scaf_add_deb_src libcaf-dev
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "scaf: building a TSan-instrumented CAF (about 3 minutes)"
# Seen here: the mirror serves the upstream tarball but answers 404 for
# Debian's small patch tarball, and apt-get source then fails as a whole.
# The upstream tarball is all the build needs.
(cd "$work" && apt-get source -qq actor-framework >/dev/null 2>&1) || true
src=$(find "$work" -maxdepth 1 -type d -name 'actor-framework-*' | head -n 1)
if [ -z "$src" ]; then
  orig=$(find "$work" -maxdepth 1 -name 'actor-framework_*.orig.tar.*' | head -n 1)
  if [ -z "$orig" ]; then
    echo "scaf: could not fetch Debian's actor-framework source" >&2
    exit 1
  fi
  tar -xf "$orig" -C "$work"
  src=$(find "$work" -maxdepth 1 -type d -name 'actor-framework-*' | head -n 1)
fi
# Without Debian's patch, GCC 12 needs <limits> in this header of caf::io.
buffer="$src/libcaf_io/caf/io/network/receive_buffer.hpp"
grep -q "<limits>" "$buffer" || sed -i 's|#include <cstddef>|#include <cstddef>\n#include <limits>|' "$buffer"
cmake -S "$src" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -g" \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCAF_NO_EXAMPLES=ON -DCAF_NO_UNIT_TESTS=ON \
  -DCAF_NO_TOOLS=ON -DCAF_NO_PYTHON=ON -DCAF_NO_OPENCL=ON \
  >/dev/null
cmake --build "$work/build" >/dev/null
cmake --install "$work/build" >/dev/null
basename "$src" > "$stamp"
echo "scaf: TSan CAF installed in $prefix"
