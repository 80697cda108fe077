#!/usr/bin/env node
// npm run experiments:window: throughput against round-trip time for window 1, 8 and 64, in the simulator and on
// loopback through the delaying relay (bench/relay.ts), against the model min(link rate, N x payload / RTT).
// One receiver, P = 0. A full run writes experiments/results/window-rtt.csv and window-rtt.svg; every run prints a
// table and its options.
//
//   node dist/experiments/window-rtt.js [--only sim|relay] [--mss 1000] [--seed 1]
//
// The relay sweep keeps to about half a minute: 1 MiB for windows 8 and 64, 256 KiB for window 1 (stop-and-wait
// at 40 ms needs 10 s for 262 segments). Relay timers are Node's (whole milliseconds): its one-way delay is the
// nominal value + up to ~1 ms, so the loopback model uses the nominal RTT.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import type { TopLevelSpec } from 'vega-lite';
import { payloadBytes } from '../src/core/codec.js';
import { runScenario } from '../sim/scenario.js';
import { addresses, lastJson } from '../bench/common.js';
import { cachedSeededFile, sha256File } from '../harness/files.js';
import { fmt, mdTable } from '../harness/format.js';
import { describeMachine, machine } from '../harness/machine.js';
import { freePort } from '../harness/net.js';
import { CLIENT, DIST, SERVER } from '../harness/paths.js';
import { start } from '../harness/procs.js';
import { startRelay } from '../bench/relay.js';
import { renderSvg } from './plot.js';

interface Point {
  env: 'simulator' | 'loopback relay';
  window: number;
  rttMs: number;
  fileBytes: number;
  seconds: number;
  mbps: number;
  modelMbps: number;
}

const WINDOWS = [1, 8, 64];
const SIM_LINK_MBPS = 100;
const model = (window: number, rttMs: number, mss: number, linkMbps: number): number =>
  Math.min(linkMbps, (window * payloadBytes(mss) * 8) / (rttMs * 1000));

function simSweep(mss: number, seed: number): Point[] {
  const out: Point[] = [];
  for (const window of WINDOWS) {
    for (const rttMs of [2, 5, 10, 20, 50, 100]) {
      const fileBytes = 1 << 20;
      const link = { delayMs: rttMs / 2, bandwidthMbps: SIM_LINK_MBPS };
      const r = runScenario({ seed, receivers: 1, lossRate: 0, fileBytes, mss, window, down: link, up: link }, false);
      const seconds = (r.completionMs ?? Number.NaN) / 1000;
      // The link carries headers too: its payload rate is the model's ceiling.
      const linkPayloadMbps = (SIM_LINK_MBPS * payloadBytes(mss)) / (mss + 28);
      out.push({ env: 'simulator', window, rttMs, fileBytes, seconds, mbps: (fileBytes * 8) / (seconds * 1e6), modelMbps: model(window, rttMs, mss, linkPayloadMbps) });
    }
  }
  return out;
}

async function relaySweep(mss: number, dir: string): Promise<Point[]> {
  const out: Point[] = [];
  const [rxAddr, relayAddr] = addresses(2, 5);
  for (const window of WINDOWS) {
    for (const oneWayMs of [2, 5, 10, 20]) {
      const fileBytes = window === 1 ? 256 * 1024 : 1 << 20;
      const src = cachedSeededFile(dir, fileBytes, 11);
      const port = await freePort([rxAddr!, relayAddr!]);
      const copy = path.join(dir, `copy-${window}-${oneWayMs}.bin`);
      const server = start(SERVER, ['--bind', rxAddr!, '--json', '--linger', '0.3', String(port), copy, '0']);
      await server.ready;
      const relay = await startRelay({ listen: { address: relayAddr!, port }, target: { address: rxAddr!, port }, downDelayMs: oneWayMs, upDelayMs: oneWayMs });
      const client = start(CLIENT, ['--json', '--window', String(window), relayAddr!, String(port), src, String(mss)]);
      const c = await client.done;
      await server.done;
      await relay.close();
      const summary = lastJson<{ total: { timeMs: number; completed: number } }>(c.stdout);
      if (!summary || summary.total.completed !== 1 || sha256File(copy) !== sha256File(src)) throw new Error(`relay run window ${window}, ${oneWayMs} ms failed: ${c.stderr}`);
      fs.rmSync(copy, { force: true });
      const seconds = summary.total.timeMs / 1000;
      const rttMs = 2 * oneWayMs;
      out.push({ env: 'loopback relay', window, rttMs, fileBytes, seconds, mbps: (fileBytes * 8) / (seconds * 1e6), modelMbps: model(window, rttMs, mss, Number.POSITIVE_INFINITY) });
    }
  }
  return out;
}

function plot(points: Point[], mss: number): TopLevelSpec {
  const rows = points.flatMap((p) => [
    { env: p.env, rtt: p.rttMs, mbps: p.mbps, series: `window ${p.window}: measured`, window: p.window },
    { env: p.env, rtt: p.rttMs, mbps: p.modelMbps, series: `window ${p.window}: model min(link, N x payload / RTT)`, window: p.window },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Goodput against round-trip time, one receiver, P = 0', subtitle: [`MSS ${mss}; simulator: ${SIM_LINK_MBPS} Mbit/s link; loopback: p2mpclient -> bench/relay.ts -> p2mpserver`], anchor: 'start' },
    background: 'white',
    data: { values: rows },
    facet: { column: { field: 'env', type: 'nominal', title: null } },
    spec: {
      width: 320,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'rtt', type: 'quantitative', scale: { type: 'log' }, title: 'round-trip time (ms)' },
        y: { field: 'mbps', type: 'quantitative', scale: { type: 'log' }, title: 'goodput (Mbit/s)' },
        color: { field: 'window', type: 'nominal', title: 'window' },
        strokeDash: { field: 'series', type: 'nominal', title: null, legend: null },
        detail: { field: 'series' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

async function main(): Promise<void> {
  const o = new Command().option('--only <part>', 'sim or relay').option('--mss <bytes>', 'segment size', '1000').option('--seed <n>', 'simulator seed', '1').parse().opts<{ only?: string; mss: string; seed: string }>();
  const mss = Number(o.mss);
  console.log(`node dist/experiments/window-rtt.js --mss ${mss} --seed ${o.seed}${o.only ? ` --only ${o.only}` : ''}`);
  console.log(describeMachine(machine()));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-window-'));
  const points: Point[] = [];
  try {
    if (o.only !== 'relay') points.push(...simSweep(mss, Number(o.seed)));
    if (o.only !== 'sim') points.push(...(await relaySweep(mss, dir)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    mdTable([
      ['env', 'window', 'RTT ms', 'file', 'time s', 'goodput Mbit/s', 'model Mbit/s', 'measured / model'],
      ...points.map((p) => [p.env, String(p.window), String(p.rttMs), `${p.fileBytes / 1024} KiB`, fmt(p.seconds, 3), fmt(p.mbps, 2), fmt(p.modelMbps, 2), fmt(p.mbps / p.modelMbps, 3)]),
    ]),
  );
  // Only a full run replaces the committed results (a partial one would drop the other half).
  if (o.only !== undefined) return;
  const results = path.resolve(DIST, '../experiments/results');
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(path.join(results, 'window-rtt.csv'), ['env,window,rtt_ms,file_bytes,seconds,goodput_mbps,model_mbps', ...points.map((p) => [p.env, p.window, p.rttMs, p.fileBytes, p.seconds, p.mbps, p.modelMbps].join(','))].join('\n') + '\n');
  fs.writeFileSync(path.join(results, 'window-rtt.svg'), await renderSvg(plot(points, mss)));
  console.log(`wrote ${path.join(results, 'window-rtt.csv')} and window-rtt.svg`);
}

void main();
