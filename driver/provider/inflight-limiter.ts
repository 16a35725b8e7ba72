/**
 * A bound on concurrent calls: at most `limit` run at once, the rest wait first-in
 * first-out. A waiter whose deadline passes leaves the queue with an error instead of
 * starting late, so a mount storm queues in the driver rather than stampeding the secret
 * store behind the provider, and no caller waits past its own deadline.
 */
export class QueueTimeoutError extends Error {
  constructor(readonly waitedMs: number, readonly inflight: number, readonly queued: number) {
    super(`waited ${waitedMs} ms for a free slot (${inflight} calls in flight, ${queued} queued)`);
    this.name = 'QueueTimeoutError';
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout | undefined;
}

export class InflightLimiter {
  private running = 0;
  private readonly queue: Waiter[] = [];
  /** The highest number of calls that ran at once. */
  peakInflight = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`in-flight limit must be a whole number >= 1, got ${limit}`);
  }

  get inflight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Runs `fn` when a slot is free, unless `deadline` (epoch ms) passes first. */
  async run<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(deadline);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(deadline: number): Promise<void> {
    if (this.running < this.limit) {
      this.take();
      return Promise.resolve();
    }
    const started = Date.now();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          this.take();
          resolve();
        },
        timer: undefined,
      };
      if (Number.isFinite(deadline)) {
        waiter.timer = setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i !== -1) this.queue.splice(i, 1);
          reject(new QueueTimeoutError(Date.now() - started, this.running, this.queue.length));
        }, Math.max(0, deadline - Date.now()));
      }
      this.queue.push(waiter);
    });
  }

  private take(): void {
    this.running++;
    if (this.running > this.peakInflight) this.peakInflight = this.running;
  }

  private release(): void {
    this.running--;
    this.queue.shift()?.grant();
  }
}
