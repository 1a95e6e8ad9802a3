#!/usr/bin/env bash
# Command (a) of the README: installs the dependencies, builds citytwin and runs
# the main job on the built-in demo scene: the viewer when a display is present,
# otherwise a headless render to out/demo.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
mkdir -p out
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${CT_HEADLESS:-}" ]; then
  exec build/cli/citytwin view
fi
build/cli/citytwin render -o out/demo.png --size 1920x1080
echo "demo: wrote out/demo.png"
