// Argument validation shared by both programs. A user mistake is a UsageError: the program prints one line
// naming the argument and exits 2, never a stack trace.

import { Command, CommanderError } from 'commander';
import { MSS_MAX, MSS_MIN_EXCLUSIVE } from '../core/codec.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export class UsageError extends Error {}

function integer(name: string, raw: string): number {
  if (!/^[0-9]+$/.test(raw.trim())) throw new UsageError(`${name} must be an integer, got '${raw}'`);
  return Number(raw);
}

export function parsePort(raw: string): number {
  const port = integer('PORT', raw);
  if (port <= 1024 || port > 65535) throw new UsageError(`PORT must be in (1024, 65535], got ${raw}`);
  return port;
}

export function parseLoss(raw: string): number {
  const p = /^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e-?[0-9]+)?\s*$/i.test(raw) ? Number(raw) : Number.NaN;
  if (!(p >= 0 && p <= 1)) throw new UsageError(`P must be a probability with 0 <= P <= 1, got '${raw}'`);
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
  if (!(v >= min) || (positive && v === 0)) throw new UsageError(`${name} must be a ${positive ? 'positive' : 'non-negative'} number, got '${raw}'`);
  return v;
}

export function parseChoice<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as T;
}

/**
 * Ctrl-C or SIGTERM calls `stop` (the run then ends cleanly and reports); `interrupted()` tells whether that
 * happened, `release()` restores the default handling.
 */
export function catchInterrupt(stop: () => void): { interrupted(): boolean; release(): void } {
  let caught = false;
  const onSignal = (): void => {
    caught = true;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    interrupted: () => caught,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Run a commander program so that every user mistake (ours or commander's) ends in one line on stderr and
 * exit 2, help and version end in exit 0, and anything else is reported as an internal error.
 */
export async function runProgram(program: Command, argv: string[]): Promise<never> {
  program.exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str) });
  let code: number;
  try {
    await program.parseAsync(argv);
    code = process.exitCode === undefined ? EXIT_OK : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    } else if (err instanceof UsageError) {
      process.stderr.write(`${program.name()}: ${err.message}\n`);
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
