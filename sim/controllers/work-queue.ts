/**
 * A controller's work queue: keys are deduplicated while they wait, handled one at a time
 * off the caller's stack (so a controller never reacts inside the write that woke it), and
 * a failed key is retried with capped exponential backoff — the shape of client-go's
 * rate-limited workqueue, small enough for the simulated control plane.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = false;
  private stopped = false;

  constructor(
    private readonly handle: (key: string) => Promise<void> | void,
    private readonly onError: (key: string, err: unknown) => void = () => undefined,
    private readonly backoff = { initialMs: 50, maxMs: 5000 },
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const key = this.pending.values().next().value!;
      this.pending.delete(key);
      try {
        await this.handle(key);
        this.failures.delete(key);
      } catch (err) {
        this.onError(key, err);
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.add(key);
        }, Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (n - 1)));
        timer.unref();
        this.timers.add(timer);
      }
    }
    this.running = false;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }
}
