// --key FILE: exactly 64 hex digits in a file only its owner may access; everything else is one line naming
// what is wrong (a UsageError, which the CLIs turn into exit 2).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/args.js';
import { loadKeyFile } from '../src/cli/key-file.js';
import { acceptOnlyFrom, resolveSenderHost } from '../src/cli/sender-host.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-key-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const HEX = '00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF';

function keyFile(name: string, content: string | Buffer, mode = 0o600): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  fs.chmodSync(f, mode);
  return f;
}

function refusal(file: string): string {
  try {
    loadKeyFile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error(`${file} was accepted`);
}

describe('--key FILE', () => {
  it('64 hex digits (either case), with or without the newline openssl writes, give the 32-byte key', () => {
    const expected = Buffer.from(HEX, 'hex');
    for (const [name, text] of [['plain', HEX], ['nl', `${HEX}\n`], ['crlf', `${HEX}\r\n`]] as const) {
      expect(Buffer.from(loadKeyFile(keyFile(name, text)))).toEqual(expected);
    }
  });

  it('a key file group or others may read (or write) is refused, naming the mode and the fix', () => {
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
      const msg = refusal(keyFile(`mode-${mode.toString(8)}`, HEX, mode));
      expect(msg).toContain(`mode 0${mode.toString(8)}`);
      expect(msg).toContain('chmod 600');
    }
    expect(loadKeyFile(keyFile('mode-400', HEX, 0o400)).length).toBe(32);
  });

  it('anything but 64 hex digits is refused, and the message never echoes the content', () => {
    const cases: [string, string][] = [
      ['empty', ''],
      ['short', HEX.slice(0, 63)],
      ['long', `${HEX}0`],
      ['non-hex', `${HEX.slice(0, 63)}g`],
      ['spaces', ` ${HEX}`],
      ['two-lines', `${HEX}\n\n`],
      ['base64', Buffer.from(HEX, 'hex').toString('base64')],
      ['binary', Buffer.from(HEX, 'hex').toString('latin1')],
    ];
    for (const [name, text] of cases) {
      const msg = refusal(keyFile(name, text));
      expect(msg).toMatch(/must hold exactly 64 hex digits/);
      if (text.length > 8) expect(msg).not.toContain(text.trim().slice(0, 8));
    }
    expect(refusal(keyFile('huge', 'a'.repeat(10_000)))).toMatch(/64 hex digits .* 10000 bytes/);
  });

  it('a missing file, a directory and a FIFO are refused in one line (the FIFO is never waited on)', () => {
    expect(refusal(path.join(dir, 'nope'))).toMatch(/no such file/);
    expect(refusal(dir)).toMatch(/not a regular file/);
    const fifo = path.join(dir, 'fifo');
    try {
      fs.rmSync(fifo, { force: true });
      execFileSync('mkfifo', ['-m', '600', fifo]);
    } catch {
      return; // no mkfifo: nothing more to check here
    }
    expect(refusal(fifo)).toMatch(/not a regular file/);
  });
});

describe('--sender HOST', () => {
  it('accepts exactly the addresses HOST names, from any port', async () => {
    expect(await resolveSenderHost('127.0.0.5')).toEqual(['127.0.0.5']);
    expect(await resolveSenderHost('localhost')).toContain('127.0.0.1');
    const accept = acceptOnlyFrom(['127.0.0.5']);
    expect(accept('127.0.0.5:40000')).toBe(true);
    expect(accept('127.0.0.5:1')).toBe(true);
    expect(accept('127.0.0.50:40000')).toBe(false);
    expect(accept('127.0.0.1:40000')).toBe(false);
  });

  it('a HOST that names no IPv4 address is a usage error in one line', async () => {
    await expect(resolveSenderHost('no-such-host.invalid')).rejects.toThrow(/--sender 'no-such-host.invalid' does not resolve/);
    await expect(resolveSenderHost('')).rejects.toBeInstanceOf(UsageError);
  });
});

describe('--verify / --key words', () => {
  it('a receiver names what it ignores and the likely cause; a sender names the missing option', async () => {
    const { noAnswerReason, otherModeNotice } = await import('../src/cli/wire-options.js');
    expect(otherModeNotice('key', 'classic', '127.0.0.1:5000')).toBe('ignoring classic datagrams from 127.0.0.1:5000: is the sender running without --key?');
    expect(otherModeNotice('verify', 'classic', 'h:1')).toBe('ignoring classic datagrams from h:1: is the sender running without --verify?');
    expect(otherModeNotice('key', 'verify', 'h:1')).toBe('ignoring --verify datagrams from h:1: is the sender running with --verify instead of --key?');
    expect(otherModeNotice('verify', 'key', 'h:1')).toBe('ignoring --key datagrams from h:1: is the sender running with --key instead of --verify?');
    expect(noAnswerReason('key')).toMatch(/^no authenticated answer: is the receiver running with --key\?/);
    expect(noAnswerReason('verify')).toBe('no verified answer: is the receiver running with --verify?');
  });
});
