// The receiver's output, written atomically: data goes to a temporary file beside the file it will replace
// and is renamed onto it only once complete (after an fsync), so an interrupted transfer never leaves a
// truncated FILE and never damages an existing one.
//
// checkOutput() runs at start-up and refuses every FILE that cannot be replaced that way (one line, before
// anything is received). Symlink policy: a symlink FILE is kept and its final target is replaced atomically
// (the temporary file sits beside the target); a dangling link creates its target.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describeError } from './fs-errors.js';
import { quote, shownName } from './user-text.js';

/** FILE cannot be written atomically; the message is one line naming it. */
export class OutputError extends Error {}

/** Longest file name, in bytes, on Linux filesystems: the temporary name must fit it too. */
const NAME_MAX = 255;
/** The temporary name's tail, `${pid}.part`: pids have at most 7 digits on Linux (pid_max <= 2^22). */
const PID_TAIL_MAX = 7 + '.part'.length;
/** Symlinks followed before FILE is called a loop (the kernel's MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

export interface OutputTarget {
  /** FILE as the user gave it (for messages). */
  file: string;
  /** The file that is replaced: FILE, or the final target of its symlinks; directories resolved. */
  path: string;
  /** FILE existed with at least one byte at start-up. */
  holdsData: boolean;
}

const KINDS: [(st: fs.Stats) => boolean, string][] = [
  [(st) => st.isCharacterDevice(), 'a character device'],
  [(st) => st.isBlockDevice(), 'a block device'],
  [(st) => st.isFIFO(), 'a FIFO'],
  [(st) => st.isSocket(), 'a socket'],
];

/**
 * A mount point cannot be renamed over (EBUSY). A bind-mounted file from the same filesystem keeps its
 * directory's st_dev, so the kernel's mount table is asked too.
 */
function isMountPoint(p: string, st: fs.Stats): boolean {
  if (fs.statSync(path.dirname(p)).dev !== st.dev) return true;
  let table: string;
  try {
    table = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false; // no /proc: the st_dev test above is all there is
  }
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return table.split('\n').some((line) => line.split(' ')[4] !== undefined && unescape(line.split(' ')[4]!) === p);
}

/** Follow FILE's symlinks to the file that will really be replaced (directories resolved on the way). */
function resolveTarget(file: string): string {
  let p = path.resolve(file);
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    const dir = path.dirname(p);
    try {
      p = path.join(fs.realpathSync(dir), path.basename(p));
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined || !st.isSymbolicLink()) return p;
      p = path.resolve(path.dirname(p), fs.readlinkSync(p));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new OutputError(`FILE ${quote(file)}: directory ${shownName(dir)} does not exist`);
      if (code === 'ENOTDIR') throw new OutputError(`FILE ${quote(file)}: ${shownName(dir)} is not a directory`);
      throw new OutputError(`FILE ${quote(file)}: ${describeError(err)}`);
    }
  }
  throw new OutputError(`FILE ${quote(file)}: too many levels of symbolic links (a symlink loop)`);
}

/** Refuse, with one line naming FILE, everything that cannot be replaced atomically; say what will be. */
export function checkOutput(file: string): OutputTarget {
  // 'out/' or 'out/.' can only ever be a directory: catch it now, not when the finished file is renamed.
  if (file === '') throw new OutputError('FILE must not be empty');
  if (/\/$/.test(file) || ['.', '..'].includes(path.basename(file))) throw new OutputError(`FILE ${quote(file)} names a directory, not a file`);
  const nameBytes = Buffer.byteLength(path.basename(file));
  if (nameBytes > NAME_MAX) throw new OutputError(`FILE ${quote(file)}: file name too long (${nameBytes} bytes; at most ${NAME_MAX})`);
  const target = resolveTarget(file);
  const dir = path.dirname(target);
  const via = target === path.resolve(file) ? '' : ` (a symlink to ${shownName(target)})`;
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new OutputError(`FILE ${quote(file)}${via}: directory ${shownName(dir)} is not writable`);
  }
  // access(2) grants root every directory, even where no file can be created (/proc, /sys): create the temporary
  // file's name once and remove it, so that such a FILE is refused now, not when the first segment arrives.
  const probe = path.join(dir, `${tempPrefix(target)}${process.pid}.part`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputError(`FILE ${quote(file)}${via}: no file can be created in ${shownName(dir)}: ${describeError(err)}`);
  }
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(target, { throwIfNoEntry: false });
  } catch (err) {
    throw new OutputError(`FILE ${quote(file)}${via}: ${describeError(err)}`);
  }
  if (st?.isDirectory()) throw new OutputError(`FILE ${quote(file)}${via} is a directory`);
  const kind = st === undefined ? undefined : KINDS.find(([is]) => is(st))?.[1];
  if (kind !== undefined) throw new OutputError(`FILE ${quote(file)}${via} is ${kind}, not a regular file: refusing to replace it`);
  if (st !== undefined && isMountPoint(target, st)) throw new OutputError(`FILE ${quote(file)}${via} is a mount point: it cannot be replaced (write to a path beside it)`);
  return { file, path: target, holdsData: (st?.size ?? 0) > 0 };
}

function truncateBytes(s: string, max: number): string {
  let out = '';
  let n = 0;
  for (const ch of s) {
    n += Buffer.byteLength(ch);
    if (n > max) break;
    out += ch;
  }
  return out;
}

/**
 * `.NAME.` for the temporary `.NAME.PID.part`; a name too long for that (legal names run to 255 bytes) is
 * shortened and tagged with a hash of the whole name, so the temporary name always fits NAME_MAX.
 */
function tempPrefix(target: string): string {
  const name = path.basename(target);
  const whole = `.${name}.`;
  if (Buffer.byteLength(whole) + PID_TAIL_MAX <= NAME_MAX) return whole;
  const tag = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `.${truncateBytes(name, NAME_MAX - PID_TAIL_MAX - `.~${tag}.`.length)}~${tag}.`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * A receiver killed outright (SIGKILL, power loss) cannot remove its temporary file; the next receiver
 * for the same FILE removes those whose process no longer exists.
 */
function removeStaleTemps(target: string): void {
  const dir = path.dirname(target);
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // the directory was checked at start-up; nothing to clean if it cannot be listed
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.part')) continue;
    const pid = Number(name.slice(prefix.length, -'.part'.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** writev(2) takes at most this many buffers (Linux); a run released from the reorder buffer can hold more. */
const IOV_MAX = 1024;

/**
 * Write every payload, in order, with writev(2): one system call for a batch. Like write(2) it may write fewer
 * bytes than asked without failing — a filesystem filling up mid-buffer does exactly that — so loop until all
 * is written; the next call then reports the error (ENOSPC). `write` has fs.writevSync's shape.
 */
export function writeAllv(payloads: readonly Uint8Array[], write: (parts: readonly Uint8Array[]) => number): void {
  let parts = payloads;
  while (parts.length > 0) {
    const chunk = parts.length > IOV_MAX ? parts.slice(0, IOV_MAX) : parts;
    let n = write(chunk);
    if (n <= 0 && chunk.some((p) => p.length > 0)) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    let i = 0;
    while (i < parts.length && n >= parts[i]!.length) n -= parts[i++]!.length;
    if (i === parts.length) return;
    const rest = parts.slice(i);
    rest[0] = rest[0]!.subarray(n);
    parts = rest;
  }
}

/** A read-only descriptor of `file`, or undefined if it cannot be opened (holding it is only an optimisation). */
function openForHold(file: string): number | undefined {
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/** One transfer's output: open() or write() start the temporary file, commit() makes it FILE, discard() drops it. */
export class AtomicOutput {
  readonly tempPath: string;
  private fd: number | undefined;

  constructor(readonly target: OutputTarget) {
    this.tempPath = path.join(path.dirname(target.path), `${tempPrefix(target.path)}${process.pid}.part`);
    removeStaleTemps(target.path);
  }

  /** Create the temporary file; with the mode of the file it replaces, so a private file's data never is readable meanwhile. */
  open(): void {
    if (this.fd !== undefined) return;
    const old = fs.statSync(this.target.path, { throwIfNoEntry: false });
    this.fd = fs.openSync(this.tempPath, 'wx', old?.isFile() ? old.mode & 0o777 : 0o644);
  }

  write(payloads: readonly Uint8Array[]): void {
    this.open();
    const fd = this.fd!;
    writeAllv(payloads, (parts) => fs.writevSync(fd, parts));
  }

  /**
   * Make the complete temporary file FILE: flush it to disk, give it the replaced file's mode (and, as root,
   * its owner and group), then rename (atomic on one filesystem).
   */
  commit(): void {
    this.open(); // a zero-byte file never opened one
    const fd = this.fd!;
    fs.fsyncSync(fd);
    const old = fs.statSync(this.target.path, { throwIfNoEntry: false });
    if (old?.isFile()) {
      // chown first: it clears set-user-ID bits, which chmod then restores.
      if (process.getuid?.() === 0) fs.fchownSync(fd, old.uid, old.gid);
      fs.fchmodSync(fd, old.mode & 0o7777);
    }
    fs.closeSync(fd);
    this.fd = undefined;
    // Replacing a file frees its blocks inside rename(2) (12 ms for 20 MiB here), before the end's ACK can leave;
    // with the old file held open they are freed at the close instead, once this turn (and the ACK) is over.
    const held = old?.isFile() ? openForHold(this.target.path) : undefined;
    try {
      fs.renameSync(this.tempPath, this.target.path);
    } finally {
      if (held !== undefined) setImmediate(() => fs.closeSync(held));
    }
  }

  /** Drop the temporary file; FILE stays as it was. */
  discard(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already failing; the unlink below is what matters */
      }
      this.fd = undefined;
    }
    fs.rmSync(this.tempPath, { force: true });
  }
}
