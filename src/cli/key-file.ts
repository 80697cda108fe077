// --key FILE: a pre-shared 256-bit key (KEY_BYTES in src/core/seal.ts) written as 64 hex digits (`openssl rand -hex 32 > key`). Anything
// else, and a file that group or others may access, is a usage error with one line naming the fix.

import fs from 'node:fs';
import { UsageError } from './args.js';
import { quote } from '../transport/user-text.js';

/** A key file is tiny; anything larger is not one (and is never read whole). */
const MAX_KEY_FILE_BYTES = 256;

export function loadKeyFile(file: string): Uint8Array {
  let fd: number;
  try {
    // O_NOFOLLOW is not used: a symlink to a private key file is fine; its target's mode is what is checked.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--key ${quote(file)}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be opened (${code})`}`);
  }
  try {
    // fstat of the open descriptor: the file checked is the file read.
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`--key ${quote(file)} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new UsageError(`--key ${quote(file)} is accessible by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${quote(file)}`);
    }
    if (st.size > MAX_KEY_FILE_BYTES) throw new UsageError(`--key ${quote(file)} must hold 64 hex digits (a 256-bit key), but it is ${st.size} bytes`);
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return parseKey(file, buf.subarray(0, n).toString('latin1'));
  } finally {
    fs.closeSync(fd);
  }
}

/** Exactly 64 hex digits, optionally followed by one line ending (what `openssl rand -hex 32` writes). */
function parseKey(file: string, text: string): Uint8Array {
  const digits = text.replace(/\r?\n$/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(digits)) {
    throw new UsageError(`--key ${quote(file)} must hold exactly 64 hex digits (a 256-bit key, e.g. from 'openssl rand -hex 32'), got ${describe(digits)}`);
  }
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

/** What was found instead, without echoing the secret-looking content itself. */
function describe(digits: string): string {
  if (digits.length === 0) return 'an empty file';
  if (/^[0-9a-fA-F]+$/.test(digits)) return `${digits.length} hex digits`;
  return `${digits.length} characters, not all hex digits`;
}
