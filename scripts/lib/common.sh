# Shared by scripts/test, scripts/demo and scripts/bench: installs what is
# missing from Debian's packages, quietly and idempotently.

scaf_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Where scripts/lib/caf-tsan.sh keeps its TSan-instrumented CAF; the tsan test
# preset reads the same path.
scaf_tsan_prefix="$HOME/.cache/scaf/caf-tsan"

# Packages a fresh Debian machine needs to build and test scaf.
scaf_packages=(
  g++ cmake ninja-build
  libcaf-dev libspdlog-dev libfmt-dev
  libgtest-dev libbenchmark-dev nlohmann-json3-dev
  doxygen openssl
  # The observer's page is tested in a real browser.
  chromium python3 fonts-dejavu-core
  # The task tests run once more built by clang (tests/clang).
  clang-14
)

scaf_missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || echo "$pkg"
  done
}

# scaf_install PACKAGE... -- installs those of the packages that are missing.
scaf_install() {
  local missing
  missing=$(scaf_missing_packages "$@")
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "scaf: installing $(echo $missing | tr '\n' ' ')"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

scaf_install_deps() {
  scaf_install "${scaf_packages[@]}"
}

# scaf_build PRESET -- configures and builds one CMake preset.
scaf_build() {
  local preset=$1
  (cd "$scaf_root" \
    && cmake --preset "$preset" >/dev/null \
    && cmake --build --preset "$preset")
}

# scaf_add_deb_src PACKAGE -- makes the source package of PACKAGE available to
# `apt-get source`: adds a deb-src twin of the apt entry that PACKAGE is
# installed from (same archive, suite, component and signing key), read off
# the machine's own apt configuration rather than naming any archive here.
scaf_add_deb_src() {
  local pkg=$1 line uri dist suite component keyring sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # e.g. "500 http://archive.example/debian bookworm/main amd64 Packages"
  line=$(apt-cache policy "$pkg" | awk '$2 ~ /^[a-z]+:\/\// && $NF == "Packages" {print $2, $3; exit}')
  if [ -z "$line" ]; then
    echo "scaf: cannot tell which apt archive $pkg comes from" >&2
    return 1
  fi
  uri=${line%% *}
  dist=${line#* }
  suite=${dist%%/*}
  component=${dist#*/}
  keyring=$(grep -hsE -A6 "^URIs:(.* )?${uri%/}/?( |\$)" /etc/apt/sources.list.d/*.sources \
              | awk '/^Signed-By:/ {print $2; exit}')
  echo "scaf: adding a deb-src entry for $suite/$component (from apt's own sources)"
  {
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: $suite"
    echo "Components: $component"
    [ -n "$keyring" ] && echo "Signed-By: $keyring"
  } | $sudo tee /etc/apt/sources.list.d/scaf-deb-src.sources >/dev/null
  $sudo apt-get update -qq >/dev/null
}
