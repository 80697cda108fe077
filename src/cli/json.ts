// What both programs' --json lines share (docs/JSON.md): the schema version of the documents (not the
// package's), one vocabulary of status words, and the reasons a transfer or a receiver did not complete.

/** Bumped when a key changes meaning or disappears (adding keys does not bump it). */
export const JSON_SCHEMA = 1;

/** The outcome of a whole run and of each receiver. */
export type Status = 'complete' | 'failed' | 'interrupted';

/** Why something did not complete (null when it did). */
export type Reason =
  | 'no-answer'
  | 'port-unreachable'
  | 'socket-error'
  | 'read-error'
  | 'idle-timeout'
  | 'write-error'
  | 'interrupted';

/** One JSON document on one line. */
export const jsonLine = (doc: object): string => `${JSON.stringify(doc)}\n`;
