#!/usr/bin/env bash
# Builds and runs tests/consumer, a project outside scaf, the three ways a
# user consumes scaf: find_package against an installed prefix, find_package
# against the Debian package (cpack -G DEB), and add_subdirectory. Needs the
# release preset built. The exit code is the result.
set -euo pipefail
source "$(dirname "$0")/common.sh"

build="$scaf_root/build/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

consumer() { # NAME SOURCE-DIR CMAKE-ARGS... -- configures, builds and runs it
  local name=$1 source=$2
  shift 2
  echo "== scaf: consumer via $name =="
  cmake -S "$source" -B "$work/$name" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "$@" >/dev/null
  cmake --build "$work/$name" >/dev/null
  "$work/$name/app"
}
project="$scaf_root/tests/consumer"

# 1. cmake --install into a prefix, find_package(scaf CONFIG).
cmake --install "$build" --prefix "$work/prefix" >/dev/null
consumer prefix "$project" -DCMAKE_PREFIX_PATH="$work/prefix"

# 2. The Debian package: installed for real when we may (and removed after),
#    else unpacked into a root of its own.
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/libscaf-dev_*.deb)
# (Read whole: grep -q closing the pipe early is a SIGPIPE under pipefail.)
info=$(dpkg-deb --info "$deb")
grep -q "Depends: libcaf-dev" <<<"$info"
if [ "$(id -u)" -eq 0 ] && ! dpkg-query -W libscaf-dev >/dev/null 2>&1; then
  dpkg -i "$deb" >/dev/null
  trap 'dpkg -r libscaf-dev >/dev/null; rm -rf "$work"' EXIT
  consumer deb "$project"
else
  dpkg-deb -x "$deb" "$work/debroot"
  consumer deb "$project" -DCMAKE_PREFIX_PATH="$work/debroot/usr"
fi

# 3. add_subdirectory: scaf's tests, demos and benchmarks stay off, and the
#    consumer gets C++20 from the targets.
consumer subdirectory "$project/subdirectory" -DSCAF_SOURCE_DIR="$scaf_root"
grep -q "SCAF_BUILD_TESTS:BOOL=OFF" "$work/subdirectory/CMakeCache.txt"
