// Seeded randomness for the simulator. One run seed is split into named, independent streams (network per link
// direction, workload, loss service per receiver) so that changing how often one subsystem draws never shifts
// another's sequence. Alea is used because it is fast and its state is seeded from the full string.

import seedrandom from 'seedrandom';

/** Uniform [0, 1) draws. */
export type Random = () => number;

export type Seed = number | string;

/** An independent stream named `name` under the run seed `seed`. */
export function stream(seed: Seed, name: string): Random {
  return seedrandom.alea(`${String(seed)}/${name}`);
}

/** A uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** `length` seeded bytes (the simulated file). */
export function seededBytes(random: Random, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    // One draw gives 32 bits: four bytes per call keeps a 1 MiB file cheap to generate.
    const word = Math.floor(random() * 0x100000000);
    out[i] = word >>> 24;
    if (i + 1 < length) out[i + 1] = (word >>> 16) & 0xff;
    if (i + 2 < length) out[i + 2] = (word >>> 8) & 0xff;
    if (i + 3 < length) out[i + 3] = word & 0xff;
  }
  return out;
}
