// Waiting in tests: a bound on how long, never a timing assertion.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every 10 ms until it holds; throws after `limitMs` naming `what`. */
export async function waitFor(what: string, cond: () => boolean, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await sleep(10);
  }
}
