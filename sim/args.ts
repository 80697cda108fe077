// Parsers for the simulator's command-line values. They throw commander's InvalidArgumentError, which commander
// reports as a usage error naming the option.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from 'commander';

/** True when the module at `moduleUrl` is the script node was started with (so tests can import it without running it). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

export function parseNumber(text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`not a number: ${text}`);
  return x;
}

export function parseInteger(text: string): number {
  const x = parseNumber(text);
  if (!Number.isInteger(x) || x < 0) throw new InvalidArgumentError(`not a non-negative integer: ${text}`);
  return x;
}

export function parseProbability(text: string): number {
  const x = parseNumber(text);
  if (x < 0 || x >= 1) throw new InvalidArgumentError(`not a probability in [0, 1): ${text}`);
  return x;
}

export function parseFraction(text: string): number {
  const x = parseNumber(text);
  if (x < 0 || x > 1) throw new InvalidArgumentError(`not a fraction in [0, 1]: ${text}`);
  return x;
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000 };

/** "200", "200ms", "1.5s", "2m" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*$/i.exec(text);
  if (!m) throw new InvalidArgumentError(`not a duration (e.g. 200ms, 1.5s): ${text}`);
  return Number(m[1]) * DURATION_UNITS[(m[2] ?? '').toLowerCase()]!;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1000, kib: 1024, m: 1e6, mb: 1e6, mib: 1 << 20 };

/** "1000", "64KiB", "1MiB", "2MB" -> bytes. */
export function parseSize(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new InvalidArgumentError(`not a size (e.g. 1MiB, 64KiB, 1000): ${text}`);
  const bytes = Number(m[1]) * unit;
  if (!Number.isInteger(bytes)) throw new InvalidArgumentError(`not a whole number of bytes: ${text}`);
  return bytes;
}

export interface SlowGroup {
  count: number;
  delayMs: number;
}

/** "5:200ms" -> 5 receivers with a 200 ms one-way delay. */
export function parseSlow(text: string, previous: SlowGroup[] = []): SlowGroup[] {
  const [count, delay, extra] = text.split(':');
  if (count === undefined || delay === undefined || extra !== undefined) throw new InvalidArgumentError(`expected COUNT:DELAY, e.g. 5:200ms: ${text}`);
  return [...previous, { count: parseInteger(count), delayMs: parseDuration(delay) }];
}

export interface CrashSpec {
  receiver: number;
  atMs: number;
}

/** "3@1500ms" -> receiver 3 disappears at 1.5 s. */
export function parseCrash(text: string, previous: CrashSpec[] = []): CrashSpec[] {
  const [receiver, at, extra] = text.split('@');
  if (receiver === undefined || at === undefined || extra !== undefined) throw new InvalidArgumentError(`expected RECEIVER@TIME, e.g. 3@1500ms: ${text}`);
  return [...previous, { receiver: parseInteger(receiver), atMs: parseDuration(at) }];
}

/** Per-receiver delay overrides: slow groups take the last receivers, the first group the very last ones. */
export function slowOverrides(receivers: number, groups: readonly SlowGroup[]): Array<number | null> {
  const out = new Array<number | null>(receivers).fill(null);
  let next = receivers - 1;
  for (const g of groups) {
    if (g.count > next + 1) throw new InvalidArgumentError(`--slow asks for more receivers than --receivers ${receivers}`);
    for (let i = 0; i < g.count; i++) out[next--] = g.delayMs;
  }
  return out;
}
