#!/usr/bin/env bash
# Viewer test: `citytwin view` under Xvfb with a script that takes a
# screenshot, drags (orbit), zooms, takes another, toggles fullscreen, shows
# the statistics overlay (F3), quits.
# Checks exit 0, that the two camera states give different images, and that
# fullscreen resizes the drawable to the screen. Without Xvfb: fails under
# CI, skips (77) otherwise.
set -u
exe="$1"; data="$2"
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "xvfb-run not installed"
  if [ -n "${CI:-}" ]; then exit 1; else exit 77; fi
fi
model="$data/gltf/khronos-sample-assets/Duck/glTF-Binary/Duck.glb"
if [ ! -f "$model" ]; then
  echo "shared data missing: $model"
  if [ -n "${CI:-}" ]; then exit 1; else exit 77; fi
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/script.txt" <<EOS
# first state
wait 2
screenshot $dir/a.png
drag 160 120 240 140
wheel 2
wait 2
screenshot $dir/b.png
key F11 2
wait 3
screenshot $dir/c.png
key F3 1
wait 3
screenshot $dir/d.png
quit
EOS
xvfb-run -a -s "-screen 0 1280x720x24" "$exe" view "$model" --size 320x240 --script "$dir/script.txt"
rc=$?
if [ $rc -ne 0 ]; then echo "view exited $rc"; exit 1; fi
for f in a b c d; do
  [ -s "$dir/$f.png" ] || { echo "screenshot $f.png missing"; exit 1; }
done
if cmp -s "$dir/a.png" "$dir/b.png"; then echo "camera did not change the image"; exit 1; fi
# F3: the statistics overlay (only the overlay changed between c and d)
if cmp -s "$dir/c.png" "$dir/d.png"; then echo "F3 did not show the statistics overlay"; exit 1; fi
size_a=$(od -An -tu1 -j16 -N8 "$dir/a.png" | tr -s ' ')
size_c=$(od -An -tu1 -j16 -N8 "$dir/c.png" | tr -s ' ')
# PNG IHDR width/height big-endian: 320x240 windowed, 1280x720 fullscreen
[ "$size_a" = " 0 0 1 64 0 0 0 240" ] || { echo "windowed size: $size_a"; exit 1; }
[ "$size_c" = " 0 0 5 0 0 0 2 208" ] || { echo "fullscreen size: $size_c"; exit 1; }
# --frames quits by itself
xvfb-run -a -s "-screen 0 1280x720x24" "$exe" view "$model" --size 64x64 --frames 3 || { echo "--frames run failed"; exit 1; }
# bad script line: exit 2 (bad input)
echo "jump 3" > "$dir/bad.txt"
xvfb-run -a -s "-screen 0 1280x720x24" "$exe" view "$model" --size 64x64 --script "$dir/bad.txt" 2>/dev/null
rc=$?
[ $rc -eq 2 ] || { echo "bad script exited $rc, expected 2"; exit 1; }
echo "viewer ok"
