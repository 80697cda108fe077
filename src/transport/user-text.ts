// How text a user or a datagram supplied (file names, host names, option values) appears in the programs'
// lines: a message stays one line, and says exactly which name, whatever bytes the name holds.

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
// C0 and C1 controls, DEL, the line and paragraph separators, and the backslash that starts an escape.
const UNSAFE = /[\\\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

function escaped(text: string): string {
  return text.replace(UNSAFE, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `'text'` for a message, control characters and backslashes escaped C-style ('a\nb' for a name with a newline). */
export function quote(text: string): string {
  return `'${escaped(text)}'`;
}

/** A name as it is where it needs no escaping; quoted (as `quote`) where it does. */
export function shownName(name: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(name) ? quote(name) : name;
}

/**
 * One line of `sha256sum` output: as coreutils writes it, a name with a backslash or a newline is escaped and the
 * line starts with a backslash, so `sha256sum -c` reads it back.
 */
export function checksumLine(label: string, hex: string, name: string): string {
  const special = /[\\\n\r]/.test(name);
  const shown = special ? name.replace(/[\\\n\r]/g, (c) => ESCAPES[c]!) : name;
  return `${label}${special ? '\\' : ''}${hex}  ${shown}\n`;
}
