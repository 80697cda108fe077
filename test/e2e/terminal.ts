// A minimal terminal for the pseudo-terminal tests: it replays what a program wrote to its terminal (text,
// CR/LF and the cursor and erase sequences readline and cli-progress use) and returns every line that was
// ever on the screen, scrollback included, as the user would read it.

const CSI = /^\x1b\[(\??)([0-9;]*)([A-Za-z])/;

export function render(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved: [number, number] = [0, 0];
  const line = (): string[] => (lines[row] ??= []);
  for (let i = 0; i < raw.length; ) {
    const ch = raw[i]!;
    if (ch === '\x1b') {
      const m = CSI.exec(raw.slice(i, i + 16));
      if (m !== null) {
        const n = m[2] === '' ? undefined : Number(m[2]);
        switch (m[1] === '?' ? '' : m[3]) {
          case 'A': row = Math.max(0, row - (n ?? 1)); break;
          case 'B': row += n ?? 1; break;
          case 'C': col += n ?? 1; break;
          case 'D': col = Math.max(0, col - (n ?? 1)); break;
          case 'G': col = (n ?? 1) - 1; break;
          case 'K':
            if ((n ?? 0) === 0) line().length = Math.min(line().length, col);
            else if (n === 1) line().fill(' ', 0, col);
            else lines[row] = [];
            break;
          case 'J':
            line().length = Math.min(line().length, col);
            lines.length = row + 1;
            break;
        }
        i += m[0].length;
        continue;
      }
      if (raw[i + 1] === '7') saved = [row, col];
      else if (raw[i + 1] === '8') [row, col] = saved;
      i += 2;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0; // the pty turns LF into CR LF
    } else {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = ch;
    }
    i++;
  }
  return lines.map((l) => (l ?? []).join('').trimEnd());
}
