// The library (src/api.ts, as built) with the sliding window: send() and receive() in this process over loopback.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { freePort } from '../../harness/net.js';

// The built library (its workers are built JS), typed from its source: typechecking needs no build.
const API: string = '../../dist/src/api.js';
const { receive, send } = (await import(API)) as typeof import('../../src/api.js');

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('library: the window options', () => {
  it('send({ window, sack, cc, rateBitsPerSec }) to receive({ sack }) receivers: every copy byte-identical, the summary says the window', async () => {
    const src = path.join(dir, 'src.bin');
    writeSeededFile(src, 400_000, 'api-window');
    const hosts = ['127.0.0.2', '127.0.0.3'];
    const port = await freePort(hosts);
    const got = hosts.map((bind, i) => receive({ port, bind, file: path.join(dir, `copy${i}.bin`), lossRate: 0.05, seed: `api-${i}`, sack: true }));
    const sent = await send({ hosts, port, file: src, mss: 1000, window: 16, sack: true, cc: 'aimd', rateBitsPerSec: 200e6 });
    const reports = await Promise.all(got);
    const want = sha256File(src);
    expect(sent).toMatchObject({ ok: true, sha256: want, window: { window: 16, sack: true, cc: 'aimd' }, rateBitsPerSec: 200e6, total: { complete: 2 } });
    for (const [i, r] of reports.entries()) {
      expect(r).toMatchObject({ ok: true, sha256: want });
      expect(r.drops, `receiver ${i}`).toBeGreaterThan(0);
      expect(sha256File(path.join(dir, `copy${i}.bin`))).toBe(want);
    }
    // ~20 drops per receiver at P = 0.05: the window's counters are counted, not null.
    expect(typeof sent.total.fastRetransmits).toBe('number');
    expect(sent.total.sacked).toBeGreaterThan(0);
  });

  it('window options that cannot start a transfer reject with a RangeError naming them', async () => {
    const base = { hosts: ['127.0.0.2'], port: 7999, file: '/nonexistent', mss: 500 };
    await expect(send({ ...base, window: 0 })).rejects.toThrow(/window must be a positive integer/);
    await expect(send({ ...base, window: 2.5 })).rejects.toThrow(RangeError);
    await expect(send({ ...base, cc: 'cubic' as never })).rejects.toThrow(/cc must be one of none, aimd/);
    await expect(send({ ...base, rateBitsPerSec: -1 })).rejects.toThrow(/rateBitsPerSec must be a positive number/);
    await expect(receive({ port: 7999, file: path.join(dir, 'x'), reorderSegments: -1 })).rejects.toThrow(/reorderSegments/);
  });
});

describe('library: a caller mistake is an error, never a crash, a hang or a replaced file', () => {
  it('options of the wrong type or out of range reject naming the option (a RangeError, or the programs\' one-line message)', async () => {
    const base = { hosts: ['127.0.0.2'], port: 7999, file: '/nonexistent', mss: 500 };
    await expect(send({ ...base, hosts: [123 as never] })).rejects.toThrow(/hosts must be strings/);
    await expect(send({ ...base, file: undefined as never })).rejects.toThrow(/file must be a path/);
    await expect(send({ ...base, sack: 'yes' as never })).rejects.toThrow(/sack must be true or false/);
    for (const bufferBytes of [0, -1, Number.NaN, 'abc' as never]) await expect(send({ ...base, bufferBytes })).rejects.toThrow(/bufferBytes must be a positive integer/);
    const at = { port: 7999, file: path.join(dir, 'never') };
    await expect(receive({ ...at, lossRate: '0.3' as never })).rejects.toThrow(/lossRate must be a number/);
    await expect(receive({ ...at, seed: 5 as never })).rejects.toThrow(/seed must be a string/);
    await expect(receive({ ...at, file: undefined as never })).rejects.toThrow(/file must be a path/);
    await expect(receive({ ...at, bind: '999.1.1.1' })).rejects.toThrow(/bind '999\.1\.1\.1' is not an IPv4 address/);
    await expect(receive({ ...at, bind: 5 as never })).rejects.toThrow(/bind must be an IPv4 address/);
    expect(fs.existsSync(at.file)).toBe(false);
  });

  it('a rate at which receivers would wait longer than half their default idle timeout for each segment is refused, not left to fail', async () => {
    const base = { hosts: ['127.0.0.2'], port: 7999, file: '/nonexistent', mss: 1000 };
    await expect(send({ ...base, rateBitsPerSec: 0.001 })).rejects.toThrow(/rateBitsPerSec 0\.001 is too low: the receiver would get a 1000-byte segment only every .* at least 549 bit\/s/);
    // At the bound the rate is allowed (the rejection is then about the file, so no rate check came first).
    await expect(send({ ...base, rateBitsPerSec: 549 })).rejects.toThrow(/cannot be read/);
    // Ten receivers share the rate: each waits ten segment times.
    const ten = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
    await expect(send({ ...base, hosts: ten, rateBitsPerSec: 549 * 9 })).rejects.toThrow(/each of 10 receivers .* at least 5483 bit\/s/);
  });

  it('a callback that throws stops the run and the promise rejects with its error; an existing FILE stays as it was', async () => {
    const src = path.join(dir, 'cb-src.bin');
    writeSeededFile(src, 200_000, 'api-callbacks');
    const port = await freePort(['127.0.0.2']);
    const out = path.join(dir, 'cb-out.bin');
    fs.writeFileSync(out, 'the good old file');
    // onListening throws: receive() rejects, and its socket is closed (a sender finds nobody listening).
    await expect(receive({ port, bind: '127.0.0.2', file: out, onListening: () => { throw new Error('boom in onListening'); } })).rejects.toThrow('boom in onListening');
    const nobody = await send({ hosts: ['127.0.0.2'], port, file: src, mss: 1000, giveUpMs: 1000, waitMs: 0 });
    expect(nobody.ok).toBe(false);
    // onLoss throws at the first drop: the receiver stops, its temporary file is removed.
    const failing = receive({ port, bind: '127.0.0.2', file: out, lossRate: 0.2, seed: 'cb', idleTimeoutMs: 2000, onLoss: () => { throw new Error('boom in onLoss'); } });
    const sender = send({ hosts: ['127.0.0.2'], port, file: src, mss: 1000, giveUpMs: 1000 });
    await expect(failing).rejects.toThrow('boom in onLoss');
    await sender;
    // onEvent throws at the sender's first timeout: send() rejects, the process lives on.
    const recv = receive({ port, bind: '127.0.0.2', file: out, lossRate: 0.2, seed: 'cb2', idleTimeoutMs: 1000 });
    await expect(send({ hosts: ['127.0.0.2'], port, file: src, mss: 1000, onEvent: () => { throw new Error('boom in onEvent'); } })).rejects.toThrow('boom in onEvent');
    await recv.catch(() => undefined);
    expect(fs.readFileSync(out, 'utf8')).toBe('the good old file');
    expect(fs.readdirSync(dir).filter((f) => f.includes('cb-out') && f !== 'cb-out.bin')).toEqual([]);
  });
});
