// bench/tiles CesiumJS peer: serves page.html, CesiumJS and one tileset from
// a local HTTP server (127.0.0.1 only), opens Debian's chromium headless
// (WebGL2 on llvmpipe through ANGLE, flags from ../shared/PLATFORM.md) and
// runs the job written by bench_tiles: the same cameras, viewport, maximum
// screen-space error and memory budget. Usage: node bench_cesium.mjs JOB.json RESULT.json
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const [jobPath, resultPath] = process.argv.slice(2);
if (!jobPath || !resultPath) {
  console.error("usage: node bench_cesium.mjs JOB.json RESULT.json");
  process.exit(1);
}
const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
const roots = {
  "/cesium/": path.join(here, "node_modules/cesium/Build/Cesium"),
  "/tiles/": path.resolve(job.tileset_dir),
};
const types = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json", ".css": "text/css",
  ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml", ".wasm": "application/wasm" };

const server = http.createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
  let file = null;
  if (url === "/") file = path.join(here, "page.html");
  for (const [prefix, dir] of Object.entries(roots)) {
    if (url.startsWith(prefix)) {
      const f = path.resolve(dir, "." + url.slice(prefix.length - 1));
      if (f.startsWith(dir + path.sep)) file = f; // never outside the served folders
    }
  }
  fs.readFile(file ?? "", (err, data) => {
    if (err) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" });
    res.end(data);
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: "/usr/lib/chromium/chromium",
  headless: true,
  args: ["--no-sandbox", "--use-gl=angle", "--use-angle=gl-egl", "--ignore-gpu-blocklist",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: job.width, height: job.height }, deviceScaleFactor: 1 });
  page.on("console", (m) => { if (m.type() === "error") console.error("[chromium] " + m.text()); });
  page.on("requestfailed", (r) => console.error("[chromium] request failed: " + r.url()));
  page.on("response", (r) => { if (r.status() >= 400) console.error(`[chromium] HTTP ${r.status()}: ${r.url()}`); });
  page.on("pageerror", (e) => console.error("[chromium] " + e.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 120000 });
  const renderer = await page.evaluate(() => {
    const gl = document.createElement("canvas").getContext("webgl2");
    const ext = gl && gl.getExtension("WEBGL_debug_renderer_info");
    return gl ? (ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)) : "no WebGL2";
  });
  const result = await page.evaluate((j) => window.runBench(j), job);
  for (const v of result.views) {
    if (v.image && job.image_prefix)
      fs.writeFileSync(job.image_prefix + v.name + ".png", Buffer.from(v.image.split(",")[1], "base64"));
    delete v.image;
  }
  result.chromium_version = browser.version();
  result.renderer = renderer;
  fs.writeFileSync(resultPath, JSON.stringify(result));
} catch (e) {
  console.error("bench_cesium: " + e.message);
  code = 3;
} finally {
  await browser.close();
  server.close();
}
process.exit(code);
