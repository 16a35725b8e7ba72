/**
 * When each mounted volume is next due for rotation — the scheduling the poller and the
 * kubelet's republish share, kept apart from the governance record (`MountRecords`). A
 * volume is due once its last provider call (mount, rotation or refresh, success or
 * failure) is `intervalMs` old and it is not backing off; each failed rotation in a row
 * doubles its backoff, from the interval (at least 1 s) up to 10 intervals (at most 10 min),
 * and a success ends it. No I/O and time only through the `Clock`, so every rule here is
 * tested in-process with a manual clock (test/driver/rotation-schedule.test.ts).
 */
import type { Clock } from '../clock.js';

interface Entry {
  /** Epoch ms of the last provider call for this volume (success or failure). */
  lastCheckMs: number;
  failures: number;
  nextAttemptMs: number;
}

/** The backoff after failed rotations: from the interval (at least 1 s), doubling, at most 10 intervals and 10 min. */
export function rotationBackoff(intervalMs: number): { baseMs: number; maxMs: number } {
  const baseMs = Math.max(1000, intervalMs);
  return { baseMs, maxMs: Math.max(baseMs, Math.min(10 * baseMs, 600_000)) };
}

export class RotationSchedule {
  private readonly entries = new Map<string, Entry>();
  private readonly backoff: { baseMs: number; maxMs: number };

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
  ) {
    this.backoff = rotationBackoff(intervalMs);
  }

  /** A successful provider call for `targetPath` (a mount, a rotation, a refresh): the interval starts again, any backoff ends. */
  fetched(targetPath: string): void {
    this.entries.set(targetPath, { lastCheckMs: this.clock.now(), failures: 0, nextAttemptMs: 0 });
  }

  /** A failed rotation of `targetPath`: the next attempt waits out a backoff that doubles with each failure in a row. */
  failed(targetPath: string): void {
    const now = this.clock.now();
    const failures = (this.entries.get(targetPath)?.failures ?? 0) + 1;
    this.entries.set(targetPath, { lastCheckMs: now, failures, nextAttemptMs: now + Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (failures - 1)) });
  }

  /** The volume is gone (unpublished). */
  forget(targetPath: string): void {
    this.entries.delete(targetPath);
  }

  /** Whether `targetPath` is due: past the interval and not backing off. A volume never scheduled is due. */
  due(targetPath: string): boolean {
    const e = this.entries.get(targetPath);
    if (!e) return true;
    const now = this.clock.now();
    return now - e.lastCheckMs >= this.intervalMs && now >= e.nextAttemptMs;
  }

  /** Whether `targetPath` is backing off after failed rotations. */
  backingOff(targetPath: string): boolean {
    const e = this.entries.get(targetPath);
    return e !== undefined && this.clock.now() < e.nextAttemptMs;
  }
}

/** A mounted volume as a rotation pass sees it. */
export interface ScheduledVolume {
  targetPath: string;
  provider: string;
}

/**
 * A pass's work: the due volumes among `volumes`, grouped by provider, each group in the
 * order given. The pass runs the groups side by side and at most the provider's in-flight
 * bound of each group at once.
 */
export function planPass(volumes: Iterable<ScheduledVolume>, schedule: Pick<RotationSchedule, 'due'>): Map<string, string[]> {
  const byProvider = new Map<string, string[]>();
  for (const v of volumes) {
    if (!schedule.due(v.targetPath)) continue;
    let group = byProvider.get(v.provider);
    if (!group) byProvider.set(v.provider, (group = []));
    group.push(v.targetPath);
  }
  return byProvider;
}

/**
 * Runs `fn` on every item, at most `bound` at once, in order of the items; resolves when
 * all are done. `fn` must not throw (a rotation's failure is settled where it happens).
 */
export async function forEachBounded<T>(items: readonly T[], bound: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(bound, items.length)) }, worker));
}
