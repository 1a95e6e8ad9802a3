#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests, the demo and the
# benchmarks need. Idempotent: re-running it only installs what is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libgdal-dev gdal-bin libproj-dev proj-bin libgeos-dev
  libsdl2-dev libcglm-dev libepoxy-dev
  libegl-dev libegl1-mesa-dev libgl1-mesa-dri libgles-dev mesa-utils
  libcjson-dev libpng-dev libjpeg-dev libwebp-dev libstb-dev
  libmeshoptimizer-dev libdraco-dev libcurl4-openssl-dev libxml2-dev
  libfreetype-dev libharfbuzz-dev fonts-noto-cjk
  libmosquitto-dev mosquitto libembree-dev
  libopenmpi-dev openmpi-bin
  libtiff-dev libdeflate-dev libzstd-dev
  xvfb xauth python3 assimp-utils
  grass-core
)

# node + npm run the Khronos glTF-Validator in the tests (test tooling only).
# Debian's nodejs/npm unless a node with npm is already installed (e.g. NodeSource's).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
