/**
 * Waiting on a condition in a test: polls `fn` until it gives something truthy and returns
 * it; an error thrown by `fn` counts as "not yet" and is named when the time runs out.
 */
export async function until<T>(fn: () => Promise<T | undefined | false | null>, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await fn().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
