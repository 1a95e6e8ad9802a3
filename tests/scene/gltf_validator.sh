#!/usr/bin/env bash
# glTF-Validator around ctest (npm gltf-validator is a library, no CLI):
#   gltf_validator.sh setup DIR          installs it into DIR (once; offline is fine)
#   gltf_validator.sh check DIR FILE...  validates GLBs; exit 77 (skip) when node or
#                                        the package is unavailable and CI is unset.
set -u
mode=$1 dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
version=2.0.0-dev.3.10
have_module() { [ -f "$dir/node_modules/gltf-validator/package.json" ]; }
unavailable() {
  echo "gltf-validator unavailable: $1" >&2
  if [ -n "${CI:-}" ]; then exit 1; fi
  exit 77
}
case $mode in
setup)
  have_module && exit 0
  command -v npm >/dev/null || { echo "npm not installed: validator tests will skip" >&2; exit 0; }
  mkdir -p "$dir"
  timeout 120 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "gltf-validator@$version" >&2 ||
    echo "npm install gltf-validator failed (offline?): validator tests will skip" >&2
  exit 0 ;;
check)
  command -v node >/dev/null || unavailable "node not installed"
  have_module || unavailable "not installed in $dir (npm registry unreachable?)"
  for f in "$@"; do [ -f "$f" ] || { echo "missing $f" >&2; exit 1; }; done
  exec node "$here/validate_glb.js" "$dir" "$@" ;;
*) echo "usage: $0 setup|check DIR [FILE...]" >&2; exit 1 ;;
esac
