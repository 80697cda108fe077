// -v and --log FILE, for both programs: timestamped (ISO 8601, UTC) lines about what the program does, on
// stderr (-v) and/or appended to FILE. The classic event lines on stdout are never changed by it.

import fs from 'node:fs';
import { UsageError } from './args.js';
import { quote } from '../transport/user-text.js';

/** Where a line for the terminal goes: stderr, or above the progress display while it is drawn. */
export type LineWriter = (line: string) => void;

export const toStderr: LineWriter = (line) => process.stderr.write(line);

/** Open FILE for appending (created if missing) or fail as a usage error naming the option. */
export function openAppend(option: string, file: string): number {
  try {
    return fs.openSync(file, 'a', 0o644);
  } catch (err) {
    throw new UsageError(`${option} ${quote(file)} cannot be opened: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export class Logger {
  /** Where -v lines go; the progress display redirects it while drawn. */
  terminal: LineWriter = toStderr;

  private constructor(
    private readonly program: string,
    private readonly verbose: boolean,
    private readonly fd: number | undefined,
  ) {}

  static open(program: string, o: { verbose?: boolean; log?: string }): Logger {
    return new Logger(program, o.verbose === true, o.log === undefined ? undefined : openAppend('--log', o.log));
  }

  get enabled(): boolean {
    return this.verbose || this.fd !== undefined;
  }

  log(message: string): void {
    if (!this.enabled) return;
    const line = `${new Date().toISOString()} ${this.program}: ${message}\n`;
    if (this.fd !== undefined) fs.writeSync(this.fd, line);
    if (this.verbose) this.terminal(line);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}
