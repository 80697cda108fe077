// One wording for file-system errors in user-facing lines.

/** "no space left on device (ENOSPC)" from a Node fs error, or the error's text. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string') return String(err);
  const text = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? '')?.[1];
  return text ? `${text} (${e.code})` : e.code;
}
