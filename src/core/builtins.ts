// node:crypto and node:zlib, loaded on first use: only the --verify/--key wires, the sealing and the copy's
// SHA-256 need them, and a classic simulator run (which turns the copy's hash off) never does. Importing them
// eagerly cost every process start the two modules' loading (~5 ms of CPU of `npm run sim`'s ~40 ms of module
// loading). A CommonJS require is synchronous, so the callers stay synchronous.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let cryptoModule: typeof import('node:crypto') | undefined;
let zlibModule: typeof import('node:zlib') | undefined;

export function crypto(): typeof import('node:crypto') {
  return (cryptoModule ??= require('node:crypto') as typeof import('node:crypto'));
}

export function zlib(): typeof import('node:zlib') {
  return (zlibModule ??= require('node:zlib') as typeof import('node:zlib'));
}
