/**
 * A `Clock` that moves only when told: `advance(ms)` moves time on and fires the timers that
 * fall due on the way, in order. Tests of time-driven logic use it instead of sleeping, and
 * a benchmark that runs the rotation poller's passes itself gives the driver one so that the
 * poller's own timer never fires.
 */
import type { Clock } from '../driver/clock.js';

interface Timer {
  everyMs: number;
  nextMs: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private timers = new Set<Timer>();

  constructor(private time = Date.parse('2026-01-01T00:00:00Z')) {}

  now(): number {
    return this.time;
  }

  every(ms: number, fn: () => void): () => void {
    const timer: Timer = { everyMs: Math.max(1, ms), nextMs: this.time + Math.max(1, ms), fn };
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }

  /** Moves time on by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.nextMs <= end && (!next || t.nextMs < next.nextMs)) next = t;
      if (!next) break;
      this.time = next.nextMs;
      next.nextMs += next.everyMs;
      next.fn();
    }
    this.time = end;
  }

  /** How many timers are running. */
  get timerCount(): number {
    return this.timers.size;
  }
}
