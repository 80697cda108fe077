// The file to send, in one SharedArrayBuffer that every worker thread views without copying.
// A file up to the buffer size is read whole. A larger one streams through a bounded ring of whole
// segments: the main thread loads segment j into slot j mod S only once every live receiver has
// acknowledged segment j - S, and groups may send only loaded segments (SharedState.bufferEnd), so sender
// memory stays at the buffer size whatever the file size. Fast receivers run at most S segments ahead
// of the slowest live one.

import fs from 'node:fs';
import type { FileSource } from '../core/segments.js';
import { describeError } from './fs-errors.js';
import type { SharedState } from './shared-state.js';

export interface SharedFile {
  buffer: SharedArrayBuffer;
  /** File size in bytes. */
  length: number;
  /** Bytes of the file the buffer holds at once: the whole file, or a whole number of segments. */
  bufferBytes: number;
  /** Payload bytes per segment: a ring of whole segments is what keeps a segment from straddling its end. */
  payloadBytes: number;
}

export const DEFAULT_BUFFER_BYTES = 256 * 1024 * 1024;

export class FileReadError extends Error {}

function describe(path: string, err: unknown): FileReadError {
  if (err instanceof FileReadError) return err;
  return new FileReadError(`FILE '${path}' cannot be read: ${describeError(err)}`);
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
    if (total > limit) throw new FileReadError(`FILE '${path}' has no size of its own (a /proc or /sys file?) and holds more than the ${limit}-byte buffer (--buffer): copy it to a regular file first`);
  }
}

/** A view of the shared buffer as the sender machine's FileSource. */
export function fileSource(f: SharedFile): FileSource {
  if (f.bufferBytes >= f.length) return new Uint8Array(f.buffer, 0, f.length);
  const bytes = new Uint8Array(f.buffer, 0, f.bufferBytes);
  return {
    length: f.length,
    // A segment never straddles the ring's end, because the ring holds a whole number of segments.
    subarray(start: number, end: number): Uint8Array {
      const stop = Math.min(end, f.length);
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
export function openSharedFile(path: string, payloadBytes: number, bufferLimit = DEFAULT_BUFFER_BYTES): { file: SharedFile; advance(state: SharedState): boolean; close(): void } {
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
    if (!st.isFile()) throw new FileReadError(`FILE '${path}' is not a regular file`);
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

    const read = (fromByte: number, toByte: number): void => {
      for (let pos = fromByte; pos < toByte; ) {
        const at = pos % bufferBytes;
        const want = Math.min(toByte - pos, bufferBytes - at);
        const n = fs.readSync(fd, ring, at, want, pos);
        if (n === 0) throw new FileReadError(`FILE '${path}' shrank while being read`);
        pos += n;
      }
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
    return { file, advance, close };
  } catch (err) {
    close();
    throw describe(path, err);
  }
}
