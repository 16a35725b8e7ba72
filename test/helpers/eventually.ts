/**
 * Waiting for a condition in a test, never a fixed sleep: polls `fn` until it gives
 * something truthy and returns that. An error thrown by `fn` counts as "not yet"; the last
 * one is in the timeout's message, which names what was awaited and for how long.
 */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, what: string, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
