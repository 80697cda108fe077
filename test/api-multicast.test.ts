// The library's multicast options (src/api.ts): send({ multicast }) and receive({ multicast }) reach the engine
// and the receiver as p2mpclient/p2mpserver --multicast pass them, and what cannot start a transfer rejects.
// Nothing here sends or joins a group (multicast only inside test namespaces): the engine's and the receiver's
// starts are replaced by recorders; the rest of the library runs as built (hosts resolved, the file opened,
// --interface probed with a throw-away unicast socket).

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDir, writeSeededFile } from '../harness/files.js';
import type { EngineOptions, EngineRun } from '../src/transport/engine.js';
import type { ReceiverOptions } from '../src/transport/receiver-driver.js';
import { DEFAULT_REPAIR_GROUP_FRACTION, MULTICAST_DEFAULT_WINDOW } from '../src/core/multicast.js';

const started = vi.hoisted(() => ({ engine: [] as EngineOptions[], receiver: [] as ReceiverOptions[] }));
const STATS = { groupSent: 3, groupRepairs: 1, unicastRepairs: 2 };

vi.mock('../src/transport/engine.js', async (original) => ({
  ...(await original<typeof import('../src/transport/engine.js')>()),
  startEngine(o: EngineOptions): EngineRun {
    started.engine.push(o);
    const done = { results: [], elapsedMs: 1, readError: undefined, datagramsSent: 6, strangers: 1, firstStranger: '10.0.0.9:4000', multicast: o.multicast === undefined ? undefined : STATS };
    return { state: undefined as never, done: Promise.resolve(done), abort: () => {} };
  },
}));
vi.mock('../src/transport/receiver-driver.js', async (original) => ({
  ...(await original<typeof import('../src/transport/receiver-driver.js')>()),
  startReceiver(o: ReceiverOptions) {
    started.receiver.push(o);
    return { done: new Promise(() => {}), interrupt: () => {} };
  },
}));

const { receive, send } = await import('../src/api.js');

const dir = tempDir('api-multicast');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'src.bin');
writeSeededFile(file, 10_000, 'api-multicast');
const base = { hosts: ['127.0.0.2', '127.0.0.3'], port: 7735, file, mss: 500 };

beforeEach(() => {
  started.engine.length = 0;
  started.receiver.length = 0;
});

describe('library: multicast options', () => {
  it('send({ multicast }) gives the engine the group, TTL, interface and the sender the repair fraction; lockstep, SACK, one thread', async () => {
    const summary = await send({ ...base, multicast: { group: '239.1.2.3', ttl: 3, interface: '127.0.0.1', repairGroup: 0.05 } });
    expect(started.engine.length).toBe(1);
    const e = started.engine[0]!;
    expect(e.multicast).toEqual({ group: '239.1.2.3', port: 7735, ttl: 3, interface: '127.0.0.1' });
    expect(e.sender.multicast).toEqual({ repairGroupFraction: 0.05 });
    expect(e.sender.mode).toBe('lockstep');
    expect(e.sender.window).toEqual({ window: MULTICAST_DEFAULT_WINDOW, sack: true, cc: 'none' });
    expect(e.threads).toBe(1);
    // The summary says what p2mpclient --json says: the group's settings and counters, the datagrams on the wire.
    expect(summary.multicast).toEqual({ group: '239.1.2.3', port: 7735, ttl: 3, interface: '127.0.0.1', repairGroupFraction: 0.05, ...STATS, firstStranger: '10.0.0.9:4000' });
    expect(summary.total).toMatchObject({ datagramsSent: 6, strangers: 1 });
  });

  it('defaults as the programs: TTL 1, the kernel\'s interface, the default fraction; a given window is kept; without multicast nothing changes', async () => {
    await send({ ...base, window: 64, multicast: { group: ' 239.9.9.9' } });
    const e = started.engine[0]!;
    expect(e.multicast).toEqual({ group: '239.9.9.9', port: 7735, ttl: 1, interface: undefined });
    expect(e.sender.multicast).toEqual({ repairGroupFraction: DEFAULT_REPAIR_GROUP_FRACTION });
    expect(e.sender.window).toEqual({ window: 64, sack: true, cc: 'none' });

    const unicast = await send(base);
    const u = started.engine[1]!;
    expect([u.multicast, u.sender.multicast, u.sender.mode, u.sender.window]).toEqual([undefined, undefined, 'independent', { window: 1, sack: false, cc: 'none' }]);
    expect(unicast.multicast).toBeNull();
  });

  it('multicast options that cannot start a transfer reject, and nothing starts', async () => {
    const bad = async (m: object, extra: object, message: RegExp): Promise<void> => {
      await expect(send({ ...base, ...extra, multicast: { group: '239.1.2.3', ...m } })).rejects.toThrow(message);
    };
    await bad({ group: '10.1.2.3' }, {}, /not a multicast address/);
    await bad({ group: '224.0.0.5' }, {}, /reserved for routing protocols/);
    await bad({ group: 'all' }, {}, /needs an IPv4 multicast address/);
    for (const ttl of [0, 256, 1.5]) await bad({ ttl }, {}, /multicast\.ttl must be a whole number from 1 to 255/);
    for (const repairGroup of [-0.1, 1.5, Number.NaN]) await bad({ repairGroup }, {}, /multicast\.repairGroup must be a fraction from 0 to 1/);
    // 192.0.2.1 (TEST-NET-1) is no address of this host: the probe cannot bind it.
    await bad({ interface: '192.0.2.1' }, {}, /multicast\.interface '192\.0\.2\.1' is not an IPv4 address of this host/);
    await bad({}, { mode: 'independent' }, /multicast is lockstep/);
    await bad({}, { threads: 2 }, /multicast runs in one thread/);
    await bad({}, { cc: 'aimd' }, /cc cannot be combined with multicast/);
    await bad({}, { hosts: ['127.0.0.2', '127.0.0.3:7001'] }, /has its own port, but with multicast every receiver listens on port 7735/);
    expect(started.engine).toEqual([]);
  });

  it('receive({ multicast }) joins on the interface (or bind) and answers with SACKs; what cannot work rejects', async () => {
    const out = path.join(dir, 'copy.bin');
    // Each run's start is recorded (its promise never settles: the recorder starts nothing).
    const start = async (o: Parameters<typeof receive>[0]): Promise<ReceiverOptions> => {
      const n = started.receiver.length;
      void receive(o);
      await vi.waitFor(() => expect(started.receiver.length).toBe(n + 1));
      return started.receiver[n]!;
    };
    const a = await start({ port: 7735, file: out, multicast: { group: '239.1.2.3', interface: '127.0.0.1' } });
    const b = await start({ port: 7735, file: out, bind: '127.0.0.1', multicast: { group: '239.1.2.4' } });
    const u = await start({ port: 7735, file: out, bind: '127.0.0.1' });
    expect([a.multicastGroup, a.bind, a.sack]).toEqual(['239.1.2.3', '127.0.0.1', true]);
    expect([b.multicastGroup, b.bind, b.sack]).toEqual(['239.1.2.4', '127.0.0.1', true]);
    expect([u.multicastGroup, u.sack]).toEqual([undefined, false]);

    await expect(receive({ port: 7735, file: out, multicast: { group: '10.0.0.1' } })).rejects.toThrow(/not a multicast address/);
    await expect(receive({ port: 7735, file: out, bind: '127.0.0.2', multicast: { group: '239.1.2.3', interface: '127.0.0.1' } })).rejects.toThrow(/differ/);
    await expect(receive({ port: 7735, file: out, reorderSegments: 0, multicast: { group: '239.1.2.3' } })).rejects.toThrow(/multicast needs a reorder buffer \(reorderSegments above 0\)/);
    await expect(receive({ port: 7735, file: out, multicast: { group: '239.1.2.3', interface: '192.0.2.1' } })).rejects.toThrow(/not an IPv4 address of this host/);
    expect(started.receiver.length).toBe(3);
  });
});
