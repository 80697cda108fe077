// The shared file buffer: every segment a sender machine reads is the file's bytes, whether the file is held
// whole or streams through a ring, for any size and MSS.

import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../harness/files.js';
import { payloadBytes } from '../src/core/codec.js';
import { fileSource, openSharedFile } from '../src/transport/shared-file.js';
import { SharedState } from '../src/transport/shared-state.js';

const dir = tempDir('shared-file');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Read every data segment as the sender would, letting a single receiver advance the window as it goes. */
function readAllSegments(file: string, mss: number, bufferBytes: number): Buffer {
  const payload = payloadBytes(mss);
  const opened = openSharedFile(file, payload, bufferBytes);
  const state = SharedState.create(1, 1);
  opened.advance(state);
  const src = fileSource(opened.file);
  const parts: Uint8Array[] = [];
  const segments = Math.ceil(opened.file.length / payload);
  for (let i = 0; i < segments; i++) {
    // The loop may only read loaded segments; move the receiver on until segment i is.
    while (state.bufferEnd <= i) {
      state.setGroupSlowest(0, i);
      opened.advance(state);
    }
    parts.push(Uint8Array.from(src.subarray(i * payload, (i + 1) * payload)));
  }
  opened.close();
  return Buffer.concat(parts);
}

describe('every segment read from the shared buffer is the file', () => {
  it('for any size and MSS, held whole or streamed through a small ring', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 9, max: 2048 }), fc.integer({ min: 1, max: 20_000 }), fc.boolean(), (size, mss, ring, whole) => {
        const file = path.join(dir, `f-${size}-${mss}`);
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i++) data[i] = (i * 7919 + size) & 0xff;
        fs.writeFileSync(file, data);
        expect(readAllSegments(file, mss, whole ? Math.max(size, 1) : ring).equals(data)).toBe(true);
      }),
    );
  });

  it('sizes that are not a multiple of the payload (1,000,000 B at MSS 700 and 900; 100,000 B at MSS 600)', () => {
    for (const [size, mss] of [[1_000_000, 700], [1_000_000, 900], [100_000, 600]] as const) {
      const file = path.join(dir, `odd-${size}-${mss}`);
      const data = Buffer.alloc(size, 0xab);
      fs.writeFileSync(file, data);
      expect(readAllSegments(file, mss, 256 << 20).equals(data)).toBe(true);
    }
  });
});
