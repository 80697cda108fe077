// --help and --version for every program: commander wraps the description, the arguments and the options
// once, at the terminal's width (80 when not a terminal); the notes after them are wrapped the same way, and
// the examples are command lines kept as written (each fits in 80 columns).

import fs from 'node:fs';
import { Argument, Help, type Command } from 'commander';

/** The package's version, from the package.json above this module (src/cli or dist/src/cli). */
export function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'p2mp-ftp' && pkg.version !== undefined) return pkg.version;
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

export interface HelpText {
  /** One paragraph: what the program does. */
  summary: string;
  /** The positional arguments as shown (`<HOST...>`), each with a description. */
  args: Array<[string, string]>;
  /** Paragraphs after the options (behaviour, exit status). */
  notes: string[];
  /** Command lines, shown as written. */
  examples: string[];
}

export function describeProgram(program: Command, h: HelpText): Command {
  const shown = h.args.map(([term, description]) => new Argument(term, description));
  const width = (): number => (process.stdout.isTTY ? process.stdout.columns : undefined) ?? 80;
  return program
    .version(`${program.name()} ${packageVersion()}`, '-V, --version', 'print the program name and version, and exit')
    .description(h.summary)
    .configureHelp({ visibleArguments: () => shown, argumentTerm: (a) => `${a.name()}${a.variadic ? '...' : ''}` })
    .addHelpText('after', () => {
      const wrap = new Help();
      const notes = h.notes.map((n) => wrap.boxWrap(n, width())).join('\n\n');
      return `\n${notes}\n\nExamples:\n${h.examples.map((e) => `  ${e}`).join('\n')}\n`;
    });
}
