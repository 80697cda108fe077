// The receiver writes each batch of in-order payloads with one writev: whatever the kernel accepts per call, the
// file gets every byte once, in order, or the write fails loudly.

import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../harness/files.js';
import { AtomicOutput, checkOutput, writeAllv } from '../src/transport/atomic-output.js';

const dir = tempDir('atomic-output');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const concat = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length)));

/** A writev stand-in that takes at most the next of `limits` bytes per call (a disk filling up, a signal). */
function shortWriter(limits: number[]): { write: (parts: readonly Uint8Array[]) => number; written: Uint8Array[]; widest: number } {
  const written: Uint8Array[] = [];
  let call = 0;
  const w = {
    written,
    widest: 0,
    write(parts: readonly Uint8Array[]): number {
      w.widest = Math.max(w.widest, parts.length);
      let budget = limits[call++ % limits.length]!;
      let n = 0;
      for (const p of parts) {
        const take = Math.min(budget, p.length);
        written.push(p.subarray(0, take));
        n += take;
        budget -= take;
        if (take < p.length) break;
      }
      return n;
    },
  };
  return w;
}

describe('a batch of payloads is written whole and in order', () => {
  it('however few bytes each writev takes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 600 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }),
        (payloads, limits) => {
          const w = shortWriter(limits);
          writeAllv(payloads, w.write);
          expect(concat(w.written).equals(concat(payloads))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('in calls of at most 1024 buffers (IOV_MAX), however long the run released from the reorder buffer', () => {
    const payloads = Array.from({ length: 2500 }, (_, i) => Uint8Array.of(i & 0xff, i >> 8));
    const w = shortWriter([1 << 30]);
    writeAllv(payloads, w.write);
    expect(w.widest).toBe(1024);
    expect(concat(w.written).equals(concat(payloads))).toBe(true);
  });

  it('more than 1024 empty payloads before data are not taken for a write that made no progress', () => {
    const payloads = [...Array.from({ length: 1500 }, () => new Uint8Array(0)), Uint8Array.of(5, 6)];
    const w = shortWriter([1 << 30]);
    writeAllv(payloads, w.write);
    expect(concat(w.written).equals(Buffer.of(5, 6))).toBe(true);
  });

  it('a writev that makes no progress is an error, never a silent loss', () => {
    expect(() => writeAllv([Uint8Array.of(1, 2, 3)], () => 0)).toThrow(/no progress/);
  });

  it('batches written to an AtomicOutput make FILE exactly their bytes once committed', () => {
    const file = path.join(dir, 'out.bin');
    const out = new AtomicOutput(checkOutput(file));
    const batches = [[Uint8Array.of(1, 2), Uint8Array.of(3)], [Uint8Array.of(4, 5, 6)], [new Uint8Array(0), Uint8Array.of(7)]];
    for (const b of batches) out.write(b);
    expect(fs.existsSync(file)).toBe(false);
    out.commit();
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('replacing FILE makes it the new bytes at once, and the old file is let go right after (no descriptor kept)', async () => {
    const file = path.join(dir, 'replaced.bin');
    fs.writeFileSync(file, Buffer.alloc(1 << 20, 1));
    const { ino: oldInode, dev: oldDev } = fs.statSync(file);
    const out = new AtomicOutput(checkOutput(file));
    out.write([Uint8Array.of(9, 9)]);
    out.commit();
    expect([...fs.readFileSync(file)]).toEqual([9, 9]);
    const holdsOld = (): boolean =>
      fs.readdirSync('/proc/self/fd').some((fd) => {
        try {
          const st = fs.statSync(`/proc/self/fd/${fd}`);
          return st.ino === oldInode && st.dev === oldDev;
        } catch {
          return false;
        }
      });
    expect(holdsOld()).toBe(true); // held across the rename, so freeing it is not the ACK's wait
    await new Promise((r) => setImmediate(r));
    expect(holdsOld()).toBe(false);
  });
});
