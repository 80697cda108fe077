// Make package.json's "bin" programs executable after a build. tsc writes new files 0644; npm marks a bin
// executable only when it links one (an install, or the first `npx p2mpserver` in a checkout), so a fresh build
// under an npx cache that already holds this checkout left `npx p2mpserver` failing with "Permission denied".

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
for (const file of Object.values(pkg.bin)) {
  const p = path.join(root, file);
  fs.chmodSync(p, fs.statSync(p).mode | 0o111);
}
