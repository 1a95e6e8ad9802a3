#!/usr/bin/env bash
# Installs the peer tools that only the benchmarks use (never the tests):
# Debian's chromium (headless, WebGL2 on llvmpipe through ANGLE) and the npm
# packages of bench/tiles/cesium (cesium, playwright-core) into
# bench/tiles/cesium/node_modules (git-ignored). Idempotent. Needs the Debian
# mirror and the npm registry; scripts/setup-deps.sh stays light.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "ok installed"; then
  echo "setup-bench-peers: installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends chromium
fi
if ! command -v npm >/dev/null; then
  echo "setup-bench-peers: npm missing: run scripts/setup-deps.sh first" >&2
  exit 1
fi
if [ ! -d bench/tiles/cesium/node_modules/cesium ] || [ ! -d bench/tiles/cesium/node_modules/playwright-core ]; then
  echo "setup-bench-peers: npm packages for bench/tiles/cesium"
  # playwright-core drives Debian's chromium: never download its own browsers
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [ -f bench/tiles/cesium/package-lock.json ]; then
    (cd bench/tiles/cesium && npm ci --no-audit --no-fund)
  else
    (cd bench/tiles/cesium && npm install --no-audit --no-fund)
  fi
fi
echo "setup-bench-peers: chromium $(/usr/lib/chromium/chromium --version 2>/dev/null | awk '{print $2}'), cesium $(node -p "require('./bench/tiles/cesium/node_modules/cesium/package.json').version")"
