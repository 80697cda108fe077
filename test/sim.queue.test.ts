import { describe, expect, it } from 'vitest';
import { Link, serializationMs, type LinkOptions } from '../sim/network.js';
import { main } from '../sim/cli.js';
import { stream } from '../sim/prng.js';
import { runScenario } from '../sim/scenario.js';

const LINK: LinkOptions = { delayMs: 1, jitterMs: 0, loss: 0, duplicate: 0, corrupt: 0, bandwidthMbps: 8, queuePackets: 0 };

function link(o: Partial<LinkOptions>): { l: Link; arrivals: number[] } {
  const arrivals: number[] = [];
  const l = new Link({ ...LINK, ...o }, stream(1, 'q'), Number.POSITIVE_INFINITY, 'checked', (at) => arrivals.push(at));
  return { l, arrivals };
}

describe('simulator: bounded link queue (drop-tail)', () => {
  it('a burst larger than the queue loses what does not fit, and only that', () => {
    const { l, arrivals } = link({ queuePackets: 3 });
    for (let i = 0; i < 10; i++) l.send(0, new Uint8Array(972));
    expect(arrivals).toHaveLength(3);
    expect(l.stats).toMatchObject({ sent: 10, dropped: 7, queueDrops: 7 });
    // Each packet departs one serialization time after the previous one: the queue holds, it does not shorten.
    const s = serializationMs(972, 8);
    arrivals.forEach((t, i) => expect(t).toBeCloseTo(1 + (i + 1) * s, 9));
  });

  it('room returns as packets finish serializing', () => {
    const { l, arrivals } = link({ queuePackets: 2 });
    const s = serializationMs(972, 8);
    l.send(0, new Uint8Array(972));
    l.send(0, new Uint8Array(972));
    l.send(0, new Uint8Array(972)); // full: dropped
    l.send(s, new Uint8Array(972)); // the first has left: accepted
    expect(arrivals).toHaveLength(3);
    expect(l.stats.queueDrops).toBe(1);
  });

  it('0 means unbounded, as before', () => {
    const { l, arrivals } = link({ queuePackets: 0 });
    for (let i = 0; i < 500; i++) l.send(0, new Uint8Array(100));
    expect(arrivals).toHaveLength(500);
    expect(l.stats.queueDrops).toBe(0);
  });

  it('a bound that stop-and-wait never reaches changes nothing (same trace)', () => {
    const base = { receivers: 3, fileBytes: 20_000, lossRate: 0.1, rto: { fixedMs: 100 }, down: { bandwidthMbps: 10 }, up: { bandwidthMbps: 10 } };
    const unbounded = runScenario(base, false);
    const bounded = runScenario({ ...base, down: { bandwidthMbps: 10, queuePackets: 1 }, up: { bandwidthMbps: 10, queuePackets: 1 } }, false);
    expect(bounded.allComplete).toBe(true);
    expect(bounded.traceHash).toBe(unbounded.traceHash);
  });

  it('npm run sim takes --queue and refuses a bad one with a usage error', () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(main(['--receivers', '2', '--file-size', '10KiB', '--bandwidth', '10', '--queue', '4', '--no-wall'], io)).toBe(0);
    expect(main(['--queue', '-1'], io)).toBe(2);
    expect(main(['--queue', 'many'], io)).toBe(2);
  });
});
