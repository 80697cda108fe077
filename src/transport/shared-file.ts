// The file to send, in one SharedArrayBuffer that every worker thread views without copying.
// A file up to the buffer size is read whole. A larger one streams through a bounded ring of whole
// segments: the main thread loads segment j into slot j mod S only once every live receiver has
// acknowledged segment j - S, and groups may send only loaded segments (SharedState.bufferEnd), so sender
// memory stays at the buffer size whatever the file size. Fast receivers run at most S segments ahead
// of the slowest live one.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { payloadBytes as payloadOf } from '../core/codec.js';
import { TRAILER_BYTES, type WireMode } from '../core/extension.js';
import type { EofMode } from '../core/options.js';
import { sendableSegments, type FileSource } from '../core/segments.js';
import { describeError } from './fs-errors.js';
import type { SharedState } from './shared-state.js';
import { quote } from './user-text.js';

export interface SharedFile {
  buffer: SharedArrayBuffer;
  /** File size in bytes. */
  length: number;
  /** Bytes of the file the buffer holds at once: the whole file, or a whole number of segments. */
  bufferBytes: number;
  /** Payload bytes per segment: a ring of whole segments is what keeps a segment from straddling its end. */
  payloadBytes: number;
  /**
   * A streamed input (stdin): `length` is Infinity and this holds [ended, length high 32 bits, low 32 bits],
   * written by the main thread once the end is read, before it publishes the whole input as loaded.
   */
  stream?: SharedArrayBuffer;
}

export const DEFAULT_BUFFER_BYTES = 256 * 1024 * 1024;

/** Segments the buffer holds at once (Infinity when it holds the whole file): the most a window can fill. */
export function bufferSegments(f: SharedFile): number {
  return Number.isFinite(f.length) && f.bufferBytes >= f.length ? Number.POSITIVE_INFINITY : Math.floor(f.bufferBytes / f.payloadBytes);
}

export class FileReadError extends Error {}

function describe(path: string, err: unknown): FileReadError {
  if (err instanceof FileReadError) return err;
  return new FileReadError(`FILE ${quote(path)} cannot be read: ${describeError(err)}`);
}

/**
 * Files with no storage behind them — /proc files report size 0, /sys files 4096 whatever they hold — can
 * only be measured by reading them to their end; so can any file without a single allocated block (its size
 * is all they tell). Such a file is read whole, at most `limit` bytes, before anything is sent.
 */
function readToEnd(fd: number, path: string, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(Math.min(1 << 16, limit + 1 - total));
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > limit) throw new FileReadError(`FILE ${quote(path)} has no size of its own (a /proc or /sys file?) and holds more than the ${limit}-byte buffer (--buffer): copy it to a regular file first`);
  }
}

/** A streamed input's length as the worker threads see it: Infinity until the main thread has read its end. */
function streamLength(meta: SharedArrayBuffer): () => number {
  const view = new Int32Array(meta);
  let known = Number.POSITIVE_INFINITY;
  return () => {
    if (known === Number.POSITIVE_INFINITY && Atomics.load(view, 0) === 1) known = (Atomics.load(view, 1) >>> 0) * 2 ** 32 + (Atomics.load(view, 2) >>> 0);
    return known;
  };
}

/** A view of the shared buffer as the sender machine's FileSource. */
export function fileSource(f: SharedFile): FileSource {
  if (f.stream === undefined && f.bufferBytes >= f.length) return new Uint8Array(f.buffer, 0, f.length);
  const bytes = new Uint8Array(f.buffer, 0, f.bufferBytes);
  const lengthOf = f.stream === undefined ? () => f.length : streamLength(f.stream);
  return {
    get length() {
      return lengthOf();
    },
    // A segment never straddles the ring's end, because the ring holds a whole number of segments.
    subarray(start: number, end: number): Uint8Array {
      const stop = Math.min(end, lengthOf());
      if (start >= stop) return new Uint8Array(0);
      const at = start % f.bufferBytes;
      return bytes.subarray(at, at + (stop - start));
    },
  };
}

/**
 * Open FILE and load its first buffer-full. `advance(state)` publishes what is loaded and loads further
 * segments as the slowest live receiver moves on; call it once before the loops start, then
 * periodically until it returns false (whole file loaded, or no live receiver left).
 */
/**
 * The input's SHA-256, hashed as it is read (each byte once, in order): hex for the summary, and the 32
 * bytes in shared memory for the --verify/--key END segment. They are filled in when the last byte is
 * read, before the reader publishes the whole input as loaded, so a worker never builds the END earlier.
 */
class InputHash {
  private readonly hash = createHash('sha256');
  readonly digest = new Uint8Array(new SharedArrayBuffer(32));
  private hex: string | undefined;

  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }

  /** Close the hash (once) and fill in `digest`. */
  finish(): string {
    if (this.hex === undefined) {
      const d = this.hash.digest();
      this.digest.set(d);
      this.hex = d.toString('hex');
    }
    return this.hex;
  }
}

export interface OpenedFile {
  file: SharedFile;
  /** The SHA-256 bytes (shared memory), valid once the whole input is published as loaded (WireOptions.digest). */
  digest: Uint8Array;
  advance(state: SharedState): boolean;
  /**
   * SHA-256 (hex) of the file, hashed as it is read (each byte once, in order); a file not read to its end
   * (every receiver failed early) is read on to the end for it; a stream not read to its end has none.
   * Call before close().
   */
  sha256(): string | undefined;
  /** Bytes in the file; a stream's once its end was read. */
  size(): number | undefined;
  close(): void;
}

export function openSharedFile(path: string, payloadBytes: number, bufferLimit = DEFAULT_BUFFER_BYTES): OpenedFile {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer appears; it is then
    // refused below as not a regular file (the flag has no effect on reads of regular files).
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw describe(path, err);
  }
  let closed = false;
  const close = (): void => {
    if (!closed) fs.closeSync(fd);
    closed = true;
  };
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(`FILE ${quote(path)} is not a regular file`);
    // A ring of at least one segment; a file no larger than that ring is simply held whole.
    const ringBytes = Math.max(1, Math.floor(bufferLimit / payloadBytes)) * payloadBytes;
    const whole = st.blocks === 0 && st.size <= ringBytes ? readToEnd(fd, path, ringBytes) : undefined;
    const size = whole?.length ?? st.size;
    const bufferBytes = Math.min(size, ringBytes);
    const file: SharedFile = { buffer: new SharedArrayBuffer(bufferBytes), length: size, bufferBytes, payloadBytes };
    const ring = new Uint8Array(file.buffer);
    whole?.copy(ring);
    const dataSegments = Math.ceil(size / payloadBytes);
    // Segments the buffer holds: all of them for a whole file (whose size need not be a multiple of the
    // payload), else the ring's whole number of segments.
    const slots = bufferBytes >= size ? dataSegments : bufferBytes / payloadBytes;
    let loaded = whole === undefined ? 0 : dataSegments; // segments [0, loaded) have been read into the ring
    const hash = new InputHash();
    if (whole !== undefined) hash.update(whole);
    let hashedTo = whole?.length ?? 0;
    if (hashedTo === size) hash.finish();

    const read = (fromByte: number, toByte: number): void => {
      for (let pos = fromByte; pos < toByte; ) {
        const at = pos % bufferBytes;
        const want = Math.min(toByte - pos, bufferBytes - at);
        const n = fs.readSync(fd, ring, at, want, pos);
        if (n === 0) throw new FileReadError(`FILE ${quote(path)} shrank while being read`);
        hash.update(ring.subarray(at, at + n));
        pos += n;
        hashedTo = pos;
      }
      if (hashedTo === size) hash.finish();
    };
    const loadUpTo = (target: number): void => {
      read(loaded * payloadBytes, Math.min(size, target * payloadBytes));
      loaded = target;
    };

    loadUpTo(Math.min(dataSegments, slots));
    if (loaded >= dataSegments) close();

    let published = -1;
    const advance = (state: SharedState): boolean => {
      if (loaded < dataSegments) {
        const slowest = state.slowestLive();
        if (!Number.isFinite(slowest)) return false; // nobody left to send to
        const target = Math.min(dataSegments, slowest + slots);
        // Refill in chunks of at least a quarter buffer, not a segment at a time.
        if (target > loaded && (target === dataSegments || target - loaded >= slots / 4)) {
          try {
            loadUpTo(target);
          } catch (err) {
            throw describe(path, err);
          }
          if (loaded >= dataSegments) close();
        }
      }
      const end = loaded >= dataSegments ? Number.POSITIVE_INFINITY : loaded;
      if (end !== published) state.setBufferEnd(end);
      published = end;
      return loaded < dataSegments;
    };
    const sha256 = (): string => {
      // The ring is free once nobody reads it: finish the hash through it.
      for (let n = -1; hashedTo < size && n !== 0; hashedTo += n) {
        n = fs.readSync(fd, ring, 0, Math.min(ring.length, size - hashedTo), hashedTo);
        hash.update(ring.subarray(0, n));
      }
      return hash.finish();
    };
    return { file, digest: hash.digest, advance, sha256, size: () => size, close };
  } catch (err) {
    close();
    throw describe(path, err);
  }
}

/**
 * Stream an input of unknown size (stdin, a pipe) through a ring of whole segments, as udp-sender does:
 * reads go ahead of the slowest live receiver by at most the ring, each segment is published as loaded once
 * sendableSegments allows it, and the end of file (so the segment count) only once the input has ended.
 * Reads are asynchronous, so the main thread stays responsive (progress, Ctrl-C) while the input is slow.
 */
export function openSharedStream(fd: number, name: string, mss: number, eof: EofMode, bufferLimit = DEFAULT_BUFFER_BYTES, wire?: WireMode): OpenedFile {
  const payload = payloadOf(mss, TRAILER_BYTES[wire ?? 'classic']);
  const slots = Math.max(1, Math.floor(bufferLimit / payload));
  const bufferBytes = slots * payload;
  const meta = new SharedArrayBuffer(12);
  const metaView = new Int32Array(meta);
  const file: SharedFile = { buffer: new SharedArrayBuffer(bufferBytes), length: Number.POSITIVE_INFINITY, bufferBytes, payloadBytes: payload, stream: meta };
  const ring = new Uint8Array(file.buffer);
  const hash = new InputHash();
  let read = 0;
  let ended = false;
  let reading = false;
  let error: FileReadError | undefined;
  let published = -1;

  const publish = (state: SharedState): void => {
    const end = sendableSegments(read, mss, eof, ended, wire);
    if (end !== published) state.setBufferEnd(end);
    published = end;
  };
  const startRead = (state: SharedState): void => {
    if (ended || reading || error !== undefined) return;
    const slowest = state.slowestLive();
    if (!Number.isFinite(slowest)) return; // nobody left to send to
    const limit = (slowest + slots) * payload; // bytes [limit - bufferBytes, limit) may be in the ring
    if (read >= limit) return;
    const at = read % bufferBytes;
    reading = true;
    fs.read(fd, ring, at, Math.min(limit - read, bufferBytes - at), null, (err, n) => {
      reading = false;
      if (err !== null) {
        if (err.code !== 'EAGAIN') error = describe(name, err);
        return;
      }
      if (n === 0) {
        ended = true;
        hash.finish();
        Atomics.store(metaView, 1, Math.floor(read / 2 ** 32));
        Atomics.store(metaView, 2, read % 2 ** 32);
        Atomics.store(metaView, 0, 1);
      } else {
        hash.update(ring.subarray(at, at + n));
        read += n;
      }
      publish(state);
      startRead(state);
    });
  };
  const advance = (state: SharedState): boolean => {
    if (error !== undefined) throw error;
    startRead(state);
    publish(state);
    return !ended || published !== Number.POSITIVE_INFINITY;
  };
  return {
    file,
    advance,
    digest: hash.digest,
    sha256: () => (ended ? hash.finish() : undefined),
    size: () => (ended ? read : undefined),
    close: () => {}, // the input is the caller's (stdin)
  };
}
