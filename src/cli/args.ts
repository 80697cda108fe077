// Argument validation shared by both programs. A user mistake is a UsageError: the program prints one line
// naming the argument and exits 2, never a stack trace.

import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { MSS_MAX, MSS_MIN_EXCLUSIVE } from '../core/codec.js';
import { quote } from '../transport/user-text.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The shell's convention for a run ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export const exitCodeFor = (signal: NodeJS.Signals): number => 128 + os.constants.signals[signal];

/** Node's timers hold at most 2^31 - 1 ms; a longer delay fires at once, with a warning, every time. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class UsageError extends Error {}

function integer(name: string, raw: string): number {
  if (!/^[0-9]+$/.test(raw.trim())) throw new UsageError(`${name} must be an integer, got ${quote(raw)}`);
  return Number(raw);
}

export function parsePort(raw: string): number {
  const port = integer('PORT', raw);
  if (port <= 1024 || port > 65535) throw new UsageError(`PORT must be in (1024, 65535], got ${raw}`);
  return port;
}

export function parseLoss(raw: string): number {
  const p = /^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e-?[0-9]+)?\s*$/i.test(raw) ? Number(raw) : Number.NaN;
  if (!(p >= 0 && p <= 1)) throw new UsageError(`P must be a probability with 0 <= P <= 1, got ${quote(raw)}`);
  return p;
}

export function parseMss(raw: string): number {
  const mss = integer('MSS', raw);
  if (mss <= MSS_MIN_EXCLUSIVE || mss > MSS_MAX) {
    throw new UsageError(`MSS must be in (${MSS_MIN_EXCLUSIVE}, ${MSS_MAX}] (whole segment, 8-byte header included), got ${raw}`);
  }
  return mss;
}

/** A non-negative decimal option value (seconds, milliseconds). */
export function parseDecimal(name: string, raw: string, { min = 0, positive = false } = {}): number {
  const v = /^\s*[0-9]*\.?[0-9]+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(v >= min) || (positive && v === 0)) throw new UsageError(`${name} must be a ${positive ? 'positive' : 'non-negative'} number, got ${quote(raw)}`);
  return v;
}

/** A time option given in `unit`, returned in milliseconds; beyond what a timer can wait, it is refused. */
export function parseTime(name: string, raw: string, unit: 's' | 'ms', { positive = false } = {}): number {
  const ms = parseDecimal(name, raw, { positive }) * (unit === 's' ? 1000 : 1);
  if (ms > MAX_TIMER_MS) throw new UsageError(`${name} must be at most ${unit === 's' ? MAX_TIMER_MS / 1000 : MAX_TIMER_MS} ${unit === 's' ? 'seconds' : 'ms'} (about 24.8 days, the longest timer), got ${quote(raw)}`);
  return ms;
}

export function parseChoice<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`${name} must be one of ${choices.join(', ')}, got ${quote(raw)}`);
  return raw as T;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Ctrl-C, SIGTERM or SIGHUP (the terminal went away) calls `stop` (the run then ends cleanly and reports);
 * `signal()` tells which one came, `release()` restores the default handling (unless one came: then later ones are ignored).
 */
export function catchInterrupt(stop: () => void): { signal(): NodeJS.Signals | undefined; release(): void } {
  let caught: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    caught ??= signal;
    stop();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    signal: () => caught,
    release() {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      // Already stopping: a second Ctrl-C (or a launcher that forwards the signal again) must not cut the summary
      // and the exit status short; the process ends on its own right after.
      if (caught !== undefined) for (const s of STOP_SIGNALS) process.on(s, () => {});
    },
  };
}

/**
 * A closed stdout or stderr (`| head -1`) stops the printing, not the run: write errors (EPIPE) are
 * swallowed, and a destroyed stream drops later writes.
 */
function ignoreClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

/** One line for a user mistake: the program's name, what is wrong, and where to look. */
export function usageLine(program: Command, message: string): string {
  const text = message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  return `${program.name()}: ${text}; see --help\n`;
}

/**
 * Run a commander program so that every user mistake (ours or commander's) ends in one line on stderr and
 * exit 2, help and version end in exit 0, and anything else is reported as an internal error.
 */
export async function runProgram(program: Command, argv: string[]): Promise<never> {
  ignoreClosedOutput();
  program.exitOverride();
  program.configureOutput({ outputError: (str, write) => write(usageLine(program, str)) });
  let code: number;
  try {
    await program.parseAsync(argv);
    code = process.exitCode === undefined ? EXIT_OK : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    } else if (err instanceof UsageError) {
      process.stderr.write(usageLine(program, err.message));
      code = EXIT_USAGE;
    } else {
      process.stderr.write(`${program.name()}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      code = EXIT_FAILED;
    }
  }
  // Let stdout drain (event lines may be queued from worker threads) before leaving.
  process.exitCode = code;
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
