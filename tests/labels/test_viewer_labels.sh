#!/usr/bin/env bash
# The viewer (an interactive renderer: label occlusion from asynchronous depth
# read-back of an earlier frame) under Xvfb on a scene of three towers and 20
# labelled points, some behind the towers: a screenshot at 320x240, then
# fullscreen (a resize to 640x480) and another. Each screenshot must equal,
# byte for byte, the PNG `citytwin render` (one-shot, synchronous depth)
# writes for the same scene and size: the same labels hidden and drawn. The
# still camera makes the one-frame latency invisible. Without Xvfb: fails
# under CI, skips (77) otherwise.
set -u
exe="$1"
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "xvfb-run not installed"
  if [ -n "${CI:-}" ]; then exit 1; else exit 77; fi
fi
if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then echo "no font"; exit 77; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
crs='"crs":{"type":"name","properties":{"name":"EPSG:4547"}}'
{
  echo "{\"type\":\"FeatureCollection\",$crs,\"features\":["
  sep=""
  for cx in -40 0 40; do
    x0=$((405000 + cx - 15)); x1=$((405000 + cx + 15)); y0=$((2498000 + 30)); y1=$((2498000 + 60))
    echo "$sep{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[$x0,$y0],[$x1,$y0],[$x1,$y1],[$x0,$y1],[$x0,$y0]]]}}"
    sep=","
  done
  echo "]}"
} > "$dir/towers.geojson"
{
  echo "{\"type\":\"FeatureCollection\",$crs,\"features\":["
  for i in $(seq 0 19); do
    x=$((405000 - 60 + 25 * (i % 5))); y=$((2498000 - 20 + 50 * (i / 5)))
    [ "$i" -gt 0 ] && echo ","
    printf '{"type":"Feature","properties":{"name":"P%02d"},"geometry":{"type":"Point","coordinates":[%d,%d]}}\n' "$i" "$x" "$y"
  done
  echo "]}"
} > "$dir/points.geojson"
cat > "$dir/scene.json" <<EOS
{"version": 1, "name": "labels", "crs": "EPSG:4547", "origin": [113.08, 22.58, 0],
 "layers": [
  {"name": "towers", "type": "vector", "source": "towers.geojson", "style": {"color": "#c8c0b0", "extrude": 40}},
  {"name": "points", "type": "vector", "source": "points.geojson",
   "style": {"color": "#1f77b4", "size": 3, "label": "name", "label_size": 12}}]}
EOS
cat > "$dir/script.txt" <<EOS
wait 2
screenshot $dir/view-small.png
key F11 2
wait 2
screenshot $dir/view-full.png
quit
EOS
xvfb-run -a -s "-screen 0 640x480x24" "$exe" view "$dir/scene.json" --size 320x240 --script "$dir/script.txt" \
  2> "$dir/view.log"
rc=$?
cat "$dir/view.log"
if [ $rc -ne 0 ]; then echo "view exited $rc"; exit 1; fi
if grep -q "read-back" "$dir/view.log"; then echo "depth read-back warnings"; exit 1; fi
"$exe" render "$dir/scene.json" -o "$dir/render-small.png" --size 320x240 || exit 1
"$exe" render "$dir/scene.json" -o "$dir/render-full.png" --size 640x480 || exit 1
for s in small full; do
  [ -s "$dir/view-$s.png" ] || { echo "screenshot view-$s.png missing"; exit 1; }
  cmp -s "$dir/view-$s.png" "$dir/render-$s.png" || { echo "viewer and render differ ($s)"; exit 1; }
done
# the scene is worth it: labels drawn (text pixels differ from a render without labels)
sed -i 's/, "label": "name", "label_size": 12//' "$dir/scene.json"
"$exe" render "$dir/scene.json" -o "$dir/nolabels.png" --size 320x240 || exit 1
if cmp -s "$dir/nolabels.png" "$dir/render-small.png"; then echo "no labels drawn"; exit 1; fi
echo "viewer labels ok"
