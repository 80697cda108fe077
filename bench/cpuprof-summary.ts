#!/usr/bin/env node
// Summarize V8 .cpuprofile files (from `node --cpu-prof`, one per thread): self time per function, and
// the inclusive time of the functions whose name matches --focus. Used by `npm run profile` to say where
// the sender spends its time per segment.
//
//   node dist/bench/cpuprof-summary.js [--top 25] [--segments N] FILE.cpuprofile...

import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  name: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  file: string;
  durationMs: number;
  idleMs: number;
  busyMs: number;
  functions: FunctionCost[];
}

function label(cf: CallFrame): string {
  const name = cf.functionName || '(anonymous)';
  if (!cf.url) return name;
  const file = cf.url.replace(/^file:\/\//, '');
  const short = file.includes('node_modules') ? file.slice(file.lastIndexOf('node_modules') + 13) : file.includes('/dist/') ? file.slice(file.lastIndexOf('/dist/') + 6) : path.basename(file);
  return `${name} ${short}:${cf.lineNumber + 1}`;
}

export function summarize(file: string): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const l = label(n.callFrame);
    if (n.callFrame.functionName === '(idle)') idle += us;
    self.set(l, (self.get(l) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cl = label(byId.get(cur)!.callFrame);
      if (seen.has(cl)) continue;
      seen.add(cl);
      total.set(cl, (total.get(cl) ?? 0) + us);
    }
  }
  const durationMs = (p.endTime - p.startTime) / 1000;
  const functions = [...self.entries()]
    .map(([name, us]) => ({ name, selfMs: us / 1000, totalMs: (total.get(name) ?? us) / 1000 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { file, durationMs, idleMs: idle / 1000, busyMs: durationMs - idle / 1000, functions };
}

function main(argv: string[]): void {
  let top = 25;
  let segments: number | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--top') top = Number(argv[++i]);
    else if (a === '--segments') segments = Number(argv[++i]);
    else files.push(a);
  }
  for (const f of files) {
    const s = summarize(f);
    const perSeg = segments ? ` (${((s.busyMs * 1000) / segments).toFixed(2)} us busy per segment over ${segments} segments)` : '';
    console.log(`\n${path.basename(f)}: ${s.durationMs.toFixed(0)} ms profiled, ${s.busyMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle${perSeg}`);
    console.log(`${'self ms'.padStart(9)} ${'self %'.padStart(7)} ${'total ms'.padStart(9)}  function`);
    for (const fn of s.functions.slice(0, top)) {
      const pct = (100 * fn.selfMs) / Math.max(1e-9, s.durationMs);
      console.log(`${fn.selfMs.toFixed(1).padStart(9)} ${pct.toFixed(1).padStart(6)}% ${fn.totalMs.toFixed(1).padStart(9)}  ${fn.name}`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main(process.argv.slice(2));
