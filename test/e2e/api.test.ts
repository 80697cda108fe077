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
