// What only the loopback benchmarks share: their programs, their addresses (127.0.3.x-127.0.7.x) and reading
// the JSON the programs print. Processes, ports, files, the machine and tables are the shared harness/.
// Benchmarks only ever send to 127.0.0.0/8.

import path from 'node:path';
import { DIST } from '../harness/paths.js';

export const FARM = path.join(DIST, 'bench/receiver-farm.js');
export const PINGPONG = path.join(DIST, 'bench/pingpong.js');

/** Receiver i's address: 127.0.<block>.<1 + i % 250>, counting blocks from `block` (3, 4 or 5; 6 and 7 are the experiments'). */
export function address(i: number, block = 4): string {
  const b = block + Math.floor(i / 250);
  if (b > 7) throw new RangeError(`receiver ${i} is outside 127.0.3.x-127.0.7.x`);
  return `127.0.${b}.${1 + (i % 250)}`;
}

export function addresses(n: number, block = 4): string[] {
  return Array.from({ length: n }, (_, i) => address(i, block));
}

/** The last line of `text` that parses as a JSON object. */
export function lastJson<T>(text: string): T | undefined {
  const lines = text.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as T;
    } catch {
      /* not this one */
    }
  }
  // A pretty-printed document (p2mpclient --json) spans many lines.
  const start = text.indexOf('{');
  if (start >= 0) {
    try {
      return JSON.parse(text.slice(start, text.lastIndexOf('}') + 1)) as T;
    } catch {
      /* none */
    }
  }
  return undefined;
}
