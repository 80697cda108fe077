// Where the built programs are. This module runs as harness/paths.ts (vitest, from source) and as
// dist/harness/paths.js (benchmarks, the demo); dist/ mirrors the repository (tsconfig rootDir "."), so the
// repository root is one level up from here in the first case and two in the second.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const built = path.basename(path.dirname(here)) === 'dist';

export const ROOT = path.resolve(here, built ? '../..' : '..');
export const DIST = path.join(ROOT, 'dist');
export const SERVER = path.join(DIST, 'src/cli/server.js');
export const CLIENT = path.join(DIST, 'src/cli/client.js');
