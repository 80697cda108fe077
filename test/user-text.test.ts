// Names and values from users and datagrams keep every program line one line, and say exactly which name.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../harness/files.js';
import { checksumLine, quote, shownName } from '../src/transport/user-text.js';

describe('user text in program lines', () => {
  it('quote escapes newlines, tabs, other controls, backslashes and quotes C-style, so a message stays one line and unambiguous', () => {
    expect(quote('plain name.bin')).toBe("'plain name.bin'");
    expect(quote('a\nb')).toBe("'a\\nb'");
    expect(quote('a\\nb')).toBe("'a\\\\nb'"); // a backslash and an n: not the same name as the one above
    expect(quote('t\tr\re\x1b[31m\x7f\x85\u2028')).toBe("'t\\tr\\re\\x1b[31m\\x7f\\x85\\u2028'");
    expect(quote("it's")).toBe("'it\\'s'"); // the quote that would end the quoted name is escaped too
    expect(quote('naïve ✓')).toBe("'naïve ✓'");
    for (const s of ['x\ny', 'x\u0085y', 'x\u2029y']) expect(quote(s)).not.toMatch(/[\n\u0085\u2029]/);
  });

  it('shownName leaves a plain name as it is and quotes one that needs escaping, every time', () => {
    expect(shownName('out/file.bin')).toBe('out/file.bin');
    expect(shownName('two\nlines')).toBe("'two\\nlines'");
    expect(shownName('two\nlines')).toBe("'two\\nlines'"); // the same answer on every call
    expect(shownName('plain')).toBe('plain');
    expect(shownName("it's")).toBe("it's"); // unquoted, a quote is no ambiguity
  });

  it('checksumLine writes what sha256sum writes, and `sha256sum -c` reads it back for names with newlines and backslashes', () => {
    const dir = tempDir('user-text');
    const hex = 'f'.repeat(64);
    expect(checksumLine('SHA-256 ', hex, 'plain')).toBe(`SHA-256 ${hex}  plain\n`);
    expect(checksumLine('SHA-256 ', hex, 'a\nb')).toBe(`SHA-256 \\${hex}  a\\nb\n`);
    const names = ['plain', 'new\nline', 'cr\rname', 'back\\slash', 'both\\n\nof them'];
    const lines = names.map((name) => {
      fs.writeFileSync(path.join(dir, name), name);
      const ours = spawnSync('sha256sum', ['--', name], { cwd: dir, encoding: 'utf8' }).stdout.split(/ {2}/)[0]!.replace(/^\\/, '');
      const line = checksumLine('', ours, name);
      expect(line).toBe(spawnSync('sha256sum', ['--', name], { cwd: dir, encoding: 'utf8' }).stdout);
      return line;
    });
    const check = spawnSync('sha256sum', ['-c'], { cwd: dir, input: lines.join(''), encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});
