// The delaying relay used by the throughput-versus-RTT benchmarks: it forwards both ways, to the right sender,
// and never delivers before its delay.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from '../bench/relay.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function echo(address: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, from) => s.send(Buffer.concat([Buffer.from('re:'), m]), from.port, from.address));
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  return s.address().port;
}

async function client(relay: Relay, text: string): Promise<{ answer: string; ms: number }> {
  const c = dgram.createSocket('udp4');
  open.push({ close: () => new Promise<void>((r) => c.close(() => r())) });
  await new Promise<void>((r) => c.connect(relay.listen.port, relay.listen.address, () => r()));
  const t0 = performance.now();
  const answer = new Promise<string>((r) => c.once('message', (m) => r(m.toString())));
  c.send(text);
  return { answer: await answer, ms: performance.now() - t0 };
}

describe('delaying relay', () => {
  it('forwards each direction after its delay, and answers reach the sender that asked', async () => {
    const port = await echo('127.0.0.61');
    const relay = await startRelay({ listen: { address: '127.0.0.62', port: 0 }, target: { address: '127.0.0.61', port }, downDelayMs: 15, upDelayMs: 25 });
    open.push(relay);
    const [a, b] = await Promise.all([client(relay, 'one'), client(relay, 'two')]);
    expect(a.answer).toBe('re:one');
    expect(b.answer).toBe('re:two');
    expect(a.ms).toBeGreaterThanOrEqual(40 - 1); // Node timers may fire up to ~1 ms early against performance.now()
    expect(relay.stats).toEqual({ down: 2, up: 2 });
  });

  it('refuses addresses outside loopback', async () => {
    await expect(startRelay({ listen: { address: '10.0.0.1', port: 0 }, target: { address: '127.0.0.1', port: 9 }, downDelayMs: 1, upDelayMs: 1 })).rejects.toThrow(/127/);
  });
});
