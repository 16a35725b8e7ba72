/** Polling for a condition the driver brings about (never a fixed sleep as the judge). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value other than undefined/false, or `timeoutMs` passes (then undefined). */
export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 100): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) return undefined;
    await sleep(everyMs);
  }
}
