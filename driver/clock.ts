/**
 * The clock boundary: what time it is and a repeating timer. The driver's time-driven work
 * (the rotation schedule and the poller's ticks) reads time only through a `Clock`, so a test
 * or a benchmark can hold time still or move it on (`harness/manual-clock.ts`) instead of
 * sleeping. Contract: `now()` is epoch milliseconds and never goes backwards within one
 * clock; a timer from `every` never keeps the process alive and stops for good when its
 * stop function is called.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` every `ms` milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

/** The machine's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
