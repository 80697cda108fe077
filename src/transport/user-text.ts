// How text a user or a datagram supplied (file names, host names, option values) appears in the programs'
// lines: a message stays one line, and says exactly which name, whatever bytes the name holds.

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' };
// C0 and C1 controls, DEL, the line and paragraph separators, and the backslash that starts an escape.
const NEEDS_QUOTING = /[\\\x00-\x1f\x7f-\x9f\u2028\u2029]/;
// The same, and the quote that ends a quoted name.
const ESCAPED_IN_QUOTES = /[\\'\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** `'text'` for a message, with C's escapes (\n, \t, \\, \', \x1b; \u2028 for the two separators C has none for). */
export function quote(text: string): string {
  const escaped = text.replace(ESCAPED_IN_QUOTES, (c) => {
    const code = c.charCodeAt(0);
    return ESCAPES[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
  });
  return `'${escaped}'`;
}

/** A name as it is where it needs no escaping; quoted (as `quote`) where it does. */
export function shownName(name: string): string {
  return NEEDS_QUOTING.test(name) ? quote(name) : name;
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
