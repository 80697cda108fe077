// The file to send, read once into a SharedArrayBuffer that every worker thread views without copying.

import fs from 'node:fs';

export interface SharedFile {
  buffer: SharedArrayBuffer;
  length: number;
}

/** Largest file held in shared memory (the typed-array limit of Node 20). */
export const SHARED_FILE_MAX_BYTES = 2 ** 32 - 1;

export class FileReadError extends Error {}

export function readSharedFile(path: string): SharedFile {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw new FileReadError(`FILE '${path}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(`FILE '${path}' is not a regular file`);
    if (st.size > SHARED_FILE_MAX_BYTES) throw new FileReadError(`FILE '${path}' is ${st.size} bytes; the limit is ${SHARED_FILE_MAX_BYTES}`);
    const buffer = new SharedArrayBuffer(st.size);
    const view = new Uint8Array(buffer);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, view, off, st.size - off, off);
      if (n === 0) throw new FileReadError(`FILE '${path}' shrank while being read`);
      off += n;
    }
    return { buffer, length: st.size };
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw new FileReadError(`FILE '${path}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  } finally {
    fs.closeSync(fd);
  }
}
