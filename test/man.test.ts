// The man pages are the programs' --help in roff: every help heading becomes a section, nothing is lost.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness/paths.js';
import { manPage } from '../tools/gen-man.js';

describe('man pages', () => {
  it('turn each --help heading into a section and keep every line, roff-escaped', () => {
    const help = ['Usage: p2mpx [options] FILE', '', 'Does a thing.', '.starts with a dot', '', 'Options:', '  -q, --quiet  no lines', '', 'Examples:', '  p2mpx a\\b'].join('\n');
    const page = manPage('p2mpx', 'does things', help, '9.9.9');
    expect(page.split('\n').slice(0, 5)).toEqual(['.TH P2MPX 1 "" "p2mp-ftp 9.9.9" "User Commands"', '.SH NAME', 'p2mpx \\- does things', '.SH SYNOPSIS', '.B p2mpx [options] FILE']);
    expect(page).toContain('.SH DESCRIPTION\n.nf\nDoes a thing.\n\\&.starts with a dot\n');
    expect(page).toContain('.SH OPTIONS\n.nf\n  -q, --quiet  no lines\n');
    expect(page).toContain('.SH EXAMPLES\n.nf\n  p2mpx a\\eb\n.fi\n');
  });

  it('are built for every program npm installs', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; man: string[] };
    for (const name of Object.keys(pkg.bin)) {
      const file = `dist/man/${name}.1`;
      expect(pkg.man).toContain(file);
      expect(fs.readFileSync(path.join(ROOT, file), 'utf8')).toMatch(new RegExp(`^\\.TH ${name.toUpperCase()} 1`));
    }
  });
});
