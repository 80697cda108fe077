// --multicast GROUP, --ttl and --repair-group: parsed and checked the same way by both programs and the
// library (README, "Multicast").
//
// Which groups: any IPv4 multicast address (224.0.0.0/4) but the local network control block 224.0.0.0/24
// (RFC 5771: routing protocols, IGMP, all-hosts; never an application's). Neither udpcast (default: 232.x.y.z
// derived from the sender's address) nor UFTP (default 230.4.4.1 / 230.5.5.x) restricts the range, and at the
// default TTL 1 no router forwards a datagram of any group. With --ttl above 1 a group outside the
// administratively scoped 239.0.0.0/8 (RFC 2365, the site's own) may be forwarded beyond the site: that gets a
// warning, not a refusal.

import { isIPv4 } from 'node:net';
import { MULTICAST_DEFAULT_WINDOW } from '../core/multicast.js';
import type { MulticastOptions } from '../core/options.js';
import type { WindowOptions } from '../core/window.js';
import type { MulticastSend } from '../transport/udp-multicast.js';
import type { TaskResult } from '../../workers/send-task.js';
import { UsageError } from './args.js';
import type { MulticastSummary } from './summary.js';
import { quote } from '../transport/user-text.js';

export const DEFAULT_TTL = 1;

/**
 * What --multicast decides itself: lockstep (one transmission serves every receiver), one thread (a group
 * transmission is one send), no congestion control (the group advances with its slowest receiver). The first
 * setting given that says otherwise, as a message in the caller's names for the options (`--mode` or `mode`).
 */
export function multicastConflict(given: { mode?: string; threads?: number; cc?: string }, name: (option: 'multicast' | 'mode' | 'threads' | 'cc') => string): string | undefined {
  if (given.mode !== undefined && given.mode !== 'lockstep') return `${name('multicast')} is lockstep (one transmission serves every receiver): ${name('mode')} ${given.mode} cannot apply`;
  if (given.threads !== undefined && given.threads !== 1) return `${name('multicast')} runs in one thread (a group transmission is one send): ${name('threads')} cannot apply`;
  if (given.cc !== undefined && given.cc !== 'none') return `${name('cc')} cannot be combined with ${name('multicast')} (the group advances with its slowest receiver)`;
  return undefined;
}

/** The window a multicast sender runs: its own default, and SACK always (the group repairs from SACKs). */
export function multicastWindow(window: number | undefined): WindowOptions {
  return { window: window ?? MULTICAST_DEFAULT_WINDOW, sack: true, cc: 'none' };
}

/**
 * A multicast receiver's settings that cannot work, as a message in the caller's names: it joins the group and
 * answers on one address, and its sender repairs from SACKs (it infers nothing from duplicate ACKs), which
 * need held segments.
 */
export function receiverMulticastConflict(
  given: { interface?: string; bind?: string; reorderSegments: number },
  name: (option: 'multicast' | 'interface' | 'bind' | 'reorder') => string,
): string | undefined {
  if (given.interface !== undefined && given.bind !== undefined && given.interface !== given.bind) {
    return `${name('interface')} ${given.interface} and ${name('bind')} ${given.bind} differ: a multicast receiver joins the group and answers on one address (give one of them)`;
  }
  if (given.reorderSegments === 0) return `${name('multicast')} needs a reorder buffer (${name('reorder')} above 0): the sender repairs from SACKs of held segments`;
  return undefined;
}

export const validTtl = (ttl: number): boolean => Number.isInteger(ttl) && ttl >= 1 && ttl <= 255;
export const validFraction = (v: number): boolean => v >= 0 && v <= 1;

/** The group address, checked; a warning to print when it is not administratively scoped and may leave the site. */
export function parseGroup(raw: string, ttl: number): { group: string; warning: string | undefined } {
  const group = raw.trim();
  if (!isIPv4(group)) throw new UsageError(`--multicast needs an IPv4 multicast address (224.0.0.0 to 239.255.255.255), got ${quote(raw)}`);
  const [a, b, c] = group.split('.').map(Number) as [number, number, number];
  if (a < 224 || a > 239) throw new UsageError(`--multicast ${group} is not a multicast address (224.0.0.0/4); for one receiver, name it as HOST`);
  if (a === 224 && b === 0 && c === 0) throw new UsageError(`--multicast ${group} is in 224.0.0.0/24, reserved for routing protocols and IGMP (RFC 5771): use a 239.x.y.z group`);
  const warning =
    ttl > 1 && a !== 239
      ? `--multicast ${group} is not administratively scoped (239.0.0.0/8, RFC 2365): with --ttl ${ttl} routers may forward it beyond your site`
      : undefined;
  return { group, warning };
}

export function parseTtl(raw: string): number {
  const ttl = /^\s*[0-9]+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!validTtl(ttl)) throw new UsageError(`--ttl must be a whole number from 1 to 255 (router hops), got ${quote(raw)}`);
  return ttl;
}

export function parseFraction(name: string, raw: string): number {
  const v = /^\s*[0-9]*\.?[0-9]+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!validFraction(v)) throw new UsageError(`${name} must be a fraction from 0 to 1, got ${quote(raw)}`);
  return v;
}

/** The summary's `multicast`: the group's settings and, from the finished run, what went to it. */
export function multicastSummary(send: MulticastSend, options: MulticastOptions, run: Pick<TaskResult, 'multicast' | 'firstStranger'>): MulticastSummary | undefined {
  if (run.multicast === undefined) return undefined;
  return { ...send, interface: send.interface ?? null, repairGroupFraction: options.repairGroupFraction, ...run.multicast, firstStranger: run.firstStranger ?? null };
}
