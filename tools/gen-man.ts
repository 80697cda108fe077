// Man pages generated from the programs' own --help (one source for both): run at build time, written to
// dist/man/, installed by npm through package.json "man". Each heading of the help ("Arguments:",
// "Options:", "Examples:", ...) becomes a section; the text under it stays as --help prints it.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROGRAMS: ReadonlyArray<{ name: string; script: string; summary: string }> = [
  { name: 'p2mpclient', script: 'src/cli/client.js', summary: 'send a file to many receivers over P2MP-FTP (UDP)' },
  { name: 'p2mpserver', script: 'src/cli/server.js', summary: 'receive a file over P2MP-FTP (UDP)' },
  { name: 'p2mpsim', script: 'sim/cli.js', summary: 'simulate a P2MP-FTP transfer in virtual time' },
];

/** roff-escape one line of text (backslashes, leading dots and quotes). */
const esc = (line: string): string => line.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');

export function manPage(name: string, summary: string, help: string, version: string): string {
  const lines = help.replace(/\s+$/, '').split('\n');
  const out = [`.TH ${name.toUpperCase()} 1 "" "p2mp-ftp ${version}" "User Commands"`, '.SH NAME', `${name} \\- ${esc(summary)}`];
  let i = 0;
  const usage = lines[0]?.match(/^Usage: (.*)$/);
  if (usage) {
    out.push('.SH SYNOPSIS', `.B ${esc(usage[1]!)}`);
    i = 1;
  }
  let section = 'DESCRIPTION';
  let body: string[] = [];
  const flush = (): void => {
    while (body.length > 0 && body[0]!.trim() === '') body.shift();
    if (body.length === 0) return;
    out.push(`.SH ${section}`, '.nf', ...body.map(esc), '.fi');
    body = [];
  };
  for (; i < lines.length; i++) {
    const heading = lines[i]!.match(/^([A-Z][A-Za-z ]*):$/);
    if (heading) {
      flush();
      section = heading[1]!.toUpperCase();
    } else body.push(lines[i]!);
  }
  flush();
  return `${out.join('\n')}\n`;
}

function main(): void {
  const version = (JSON.parse(fs.readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const dir = path.join(dist, 'man');
  fs.mkdirSync(dir, { recursive: true });
  for (const p of PROGRAMS) {
    const help = execFileSync(process.execPath, [path.join(dist, p.script), '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });
    fs.writeFileSync(path.join(dir, `${p.name}.1`), manPage(p.name, p.summary, help, version));
  }
}

// Run as a program (the build), not when a test imports manPage.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) main();
