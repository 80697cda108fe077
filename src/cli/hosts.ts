// The receivers a sender is given: HOST or HOST:PORT on the command line and in a hosts file (one a line,
// '#' comments, '-' for stdin), resolved to IPv4 addresses before anything is sent.

import dns from 'node:dns/promises';
import fs from 'node:fs';
import type { Target } from '../transport/engine.js';
import { parsePort, UsageError } from './args.js';

export interface HostSpec {
  host: string;
  /** The receiver's own port; undefined: the command line's PORT. */
  port: number | undefined;
  /** Where it was given, for error messages ("hosts file h.txt line 3"). */
  where: string;
}

/** "name", "1.2.3.4", "name:7735". */
export function parseHostSpec(raw: string, where: string): HostSpec {
  const m = /^([^:\s]+)(?::([^:\s]*))?$/.exec(raw);
  if (m === null) throw new UsageError(`${where}: '${raw}' is not HOST or HOST:PORT`);
  let port: number | undefined;
  if (m[2] !== undefined) {
    try {
      port = parsePort(m[2]);
    } catch (err) {
      throw new UsageError(`${where}: '${raw}': ${(err as Error).message}`);
    }
  }
  return { host: m[1]!, port, where };
}

/** One host a line; blank lines and everything after '#' are ignored. `-` reads stdin. */
export function readHostsFile(file: string): HostSpec[] {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`--hosts-file '${file}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const name = file === '-' ? 'stdin' : file;
  const specs: HostSpec[] = [];
  text.split('\n').forEach((line, i) => {
    const entry = line.replace(/#.*/, '').trim();
    if (entry !== '') specs.push(parseHostSpec(entry, `--hosts-file ${name} line ${i + 1}`));
  });
  return specs;
}

/** Resolve every spec; the same receiver (address and port) twice is a usage error. */
export async function resolveTargets(specs: HostSpec[], defaultPort: number): Promise<Target[]> {
  const targets: Target[] = [];
  const seen = new Map<string, string>();
  for (const spec of specs) {
    let address: string;
    try {
      address = (await dns.lookup(spec.host, { family: 4 })).address;
    } catch {
      throw new UsageError(`HOST '${spec.host}' (${spec.where}) does not resolve to an IPv4 address`);
    }
    const port = spec.port ?? defaultPort;
    const key = `${address}:${port}`;
    const twin = seen.get(key);
    if (twin !== undefined) throw new UsageError(`HOST '${spec.host}' (${spec.where}) is the same receiver as '${twin}' (${key})`);
    seen.set(key, spec.host);
    targets.push({ host: spec.port === undefined ? spec.host : `${spec.host}:${port}`, address, port });
  }
  return targets;
}
