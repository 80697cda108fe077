#!/usr/bin/env node
// `npm run fuzz -- --seconds S`: run every property in batches, each batch with a fresh seed, until S seconds have
// passed. Each seed is printed before it runs, so a crash or hang is reproducible too. On failure: fast-check's
// report (seed, path, shrunk case), the exact replay command, and exit code 1.
//
// Wall time and fresh seeds are read here (this is an entry point, not simulator logic).

import { randomInt } from 'node:crypto';
import { Command, CommanderError } from 'commander';
import { isEntryPoint, parseInteger, parseNumber } from './args.js';
import { PROPERTIES, propertyNamed, type PropertyEntry } from './registry.js';

interface FuzzOptions {
  seconds: number;
  seed?: number;
  property?: string;
  replay?: string;
  path?: string;
  runs?: number;
}

export interface FuzzIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Milliseconds from some fixed origin (performance.now in the real entry). */
  clock: () => number;
  freshSeed: () => number;
}

const SEED_SPACE = 0x7fffffff;

function program(io: FuzzIo): Command {
  return new Command()
    .name('npm run fuzz --')
    .description('Property-based fuzzing of the protocol with fresh seeds until the time budget is spent.')
    .option('--seconds <s>', 'time budget', parseNumber, 60)
    .option('--seed <n>', 'first seed (default: random); batch k uses seed + k', parseInteger)
    .option('--property <name>', `run only this property (${PROPERTIES.map((p) => p.name).join(', ')})`)
    .option('--runs <n>', 'cases per batch (default: per property)', parseInteger)
    .option('--replay <name>', 'replay a failure of this property; needs --seed and --path from the report')
    .option('--path <path>', 'fast-check replay path (with --replay)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
}

function reportFailure(io: FuzzIo, p: PropertyEntry, seed: number, runs: number, report: string, scenarioJson: string | undefined): void {
  const path = /path: "([^"]*)"/.exec(report)?.[1];
  io.err(`\n[fuzz] FAILED: ${p.name} (seed ${seed}, ${runs} runs per batch)\n${report}\n\n`);
  io.err(`replay:  npm run build && npm run fuzz -- --replay ${p.name} --seed ${seed} --runs ${runs}${path ? ` --path "${path}"` : ''}\n`);
  io.err(`vitest:  SIM_PROPERTY=${p.name} SIM_SEED=${seed} SIM_RUNS=${runs}${path ? ` SIM_PATH="${path}"` : ''} npx vitest run test/sim.property.test.ts\n`);
  if (scenarioJson) io.err(`the run: npm run sim -- --replay '${scenarioJson}'\n`);
}

export function main(argv: readonly string[], io: FuzzIo): number {
  let o: FuzzOptions;
  try {
    o = program(io).parse([...argv], { from: 'user' }).opts<FuzzOptions>();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  if (o.replay !== undefined) {
    const p = propertyNamed(o.replay);
    if (!p || o.seed === undefined) {
      io.err(`--replay needs a known property name and --seed\n`);
      return 2;
    }
    const runs = o.runs ?? p.fuzzBatch;
    const params = o.path === undefined ? { seed: o.seed, numRuns: runs } : { seed: o.seed, numRuns: runs, path: o.path };
    const outcome = p.run(params);
    if (!outcome.failed) {
      io.out(`[fuzz] replay of ${p.name} seed ${o.seed}: passed\n`);
      return 0;
    }
    reportFailure(io, p, o.seed, runs, outcome.report, outcome.scenarioJson);
    return 1;
  }
  const selected = o.property === undefined ? PROPERTIES : PROPERTIES.filter((p) => p.name === o.property);
  if (selected.length === 0) {
    io.err(`unknown property ${o.property}\n`);
    return 2;
  }
  const base = o.seed ?? io.freshSeed();
  const started = io.clock();
  const deadline = started + o.seconds * 1000;
  const cases = new Map<string, number>();
  io.out(`[fuzz] ${o.seconds} s budget, first seed ${base}, properties: ${selected.map((p) => p.name).join(', ')}\n`);
  let batch = 0;
  while (io.clock() < deadline) {
    for (const p of selected) {
      if (io.clock() >= deadline) break;
      const seed = (base + batch++) % SEED_SPACE;
      const runs = o.runs ?? p.fuzzBatch;
      io.out(`[fuzz] ${p.name} seed=${seed} runs=${runs} ... `);
      const t0 = io.clock();
      const outcome = p.run({ seed, numRuns: runs });
      if (outcome.failed) {
        io.out('FAILED\n');
        reportFailure(io, p, seed, runs, outcome.report, outcome.scenarioJson);
        return 1;
      }
      io.out(`ok (${Math.round(io.clock() - t0)} ms)\n`);
      cases.set(p.name, (cases.get(p.name) ?? 0) + runs);
    }
  }
  const total = [...cases.values()].reduce((a, b) => a + b, 0);
  io.out(`[fuzz] passed: ${total} cases in ${((io.clock() - started) / 1000).toFixed(1)} s (${[...cases].map(([k, v]) => `${k} ${v}`).join(', ')})\n`);
  return 0;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    clock: () => performance.now(),
    freshSeed: () => randomInt(SEED_SPACE),
  });
}
