// Files for tests, benchmarks and the demo: seeded content of any size, its SHA-256, temporary directories.

import { createCipheriv, createHash, type Cipher } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The content for `seed`: an AES-256-CTR keystream keyed by SHA-256(seed). Fast at any size (1 GiB in seconds,
 * where a per-byte PRNG takes minutes), and the first n bytes of a longer file are the file of n bytes.
 */
function keystream(seed: string | number): Cipher {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(String(seed)).digest(), Buffer.alloc(16));
}

const CHUNK = 8 << 20;

/** `size` bytes that depend only on `seed`. */
export function fileBytes(size: number, seed: string | number): Uint8Array {
  const b = keystream(seed).update(Buffer.alloc(size));
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Write fileBytes(size, seed) to `file`, in 8 MiB chunks (never held whole). */
export function writeSeededFile(file: string, size: number, seed: string | number): void {
  const cipher = keystream(seed);
  const zeros = Buffer.alloc(Math.min(size, CHUNK));
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = size; left > 0; ) {
      const n = Math.min(left, zeros.length);
      const chunk = cipher.update(zeros.subarray(0, n));
      for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off);
      left -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A seeded file of `size` bytes in `dir`, written once and reused while it is there. */
export function cachedSeededFile(dir: string, size: number, seed: string | number): string {
  const file = path.join(dir, `seeded-${size}-${seed}.bin`);
  if (fs.statSync(file, { throwIfNoEntry: false })?.size !== size) writeSeededFile(file, size, seed);
  return file;
}

/** SHA-256 of a file of any size (hex), read in 1 MiB chunks. */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** A fresh directory under the system's temporary directory, named p2mp-<name>-XXXXXX. The caller removes it. */
export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `p2mp-${name}-`));
}

/** A fresh subdirectory of `dir`. */
export function subdir(dir: string, name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  return d;
}
