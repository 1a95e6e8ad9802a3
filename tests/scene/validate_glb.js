// Validates GLB files with Khronos' glTF-Validator (npm gltf-validator, a
// library). Usage: node validate_glb.js MODULE_DIR FILE...
// Exit 0 when no file has errors, 1 otherwise; prints a summary per file.
'use strict';
const fs = require('fs');
const path = require('path');
const validator = require(path.resolve(process.argv[2], 'node_modules', 'gltf-validator'));

async function main() {
  let bad = 0;
  for (const file of process.argv.slice(3)) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const report = await validator.validateBytes(bytes, {
      maxIssues: 50,
      // External resources are not used: everything is in the GLB.
      externalResourceFunction: (uri) => Promise.reject(new Error('external resource ' + uri)),
    });
    const i = report.issues;
    console.log(`${path.basename(file)}: ${i.numErrors} errors, ${i.numWarnings} warnings, ${i.numInfos} infos`);
    for (const m of i.messages) {
      if (m.severity <= 1) console.log(`  [${m.severity === 0 ? 'error' : 'warning'}] ${m.code} ${m.pointer || ''}: ${m.message}`);
    }
    if (i.numErrors > 0) bad++;
  }
  process.exit(bad ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
