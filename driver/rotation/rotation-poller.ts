/**
 * The driver-side rotation poller (`--enable-secret-rotation`): every tick it refetches
 * the mounted volumes that the rotation schedule says are due (past
 * `--rotation-poll-interval`, not backing off after a failure) — so rotation happens even
 * under kubelets that never republish. A pass refetches the due volumes of each provider
 * concurrently, at most `perProviderBound` at once (the provider's in-flight bound,
 * `--provider-max-inflight`), the providers side by side: a thousand volumes take about a
 * thousandth of the pass's provider round trips in a row each, and a pass never queues
 * Mount calls in the driver behind its own. Each refetch goes through the same code path as
 * the kubelet's republish (per-target locks keep the two from overlapping); a failure is
 * settled there (backoff, metric, event) and logged here.
 */
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../clock.js';
import type { MountRecords } from '../mount-records.js';
import type { VolumePublisher } from '../volume-publisher.js';
import { forEachBounded, planPass, type RotationSchedule } from './rotation-schedule.js';

export interface RotationPollerOptions {
  /** The most refetches of one provider's volumes in flight at once. */
  perProviderBound: number;
  clock: Clock;
}

export class RotationPoller {
  private stopTimer: (() => void) | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly publisher: Pick<VolumePublisher, 'refetch'>,
    private readonly records: Pick<MountRecords, 'volumes'>,
    private readonly schedule: RotationSchedule,
    private readonly options: RotationPollerOptions,
    private readonly logger: Logger,
  ) {}

  /** Ticks twice per interval (at least every 100 ms, at most every 30 s). */
  start(): this {
    const tick = Math.max(100, Math.min(this.schedule.intervalMs / 2, 30_000));
    this.stopTimer = this.options.clock.every(tick, () => void this.pass());
    return this;
  }

  /**
   * One pass over the due volumes; resolves with how many were refetched. A pass asked for
   * while one runs starts none of its own: it resolves with 0 once the running one is done.
   */
  pass(): Promise<number> {
    if (this.running) return this.running.then(() => 0);
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<number> {
    const work = planPass(this.records.volumes(), this.schedule);
    const due = [...work.values()].reduce((sum, targets) => sum + targets.length, 0);
    if (due === 0) return 0;
    const started = performance.now();
    this.logger.debug({ due, byProvider: Object.fromEntries([...work].map(([p, t]) => [p, t.length])), perProviderBound: this.options.perProviderBound }, 'rotation pass started');
    let n = 0;
    let failed = 0;
    await Promise.all(
      [...work.values()].map((targets) =>
        forEachBounded(targets, this.options.perProviderBound, async (target) => {
          n++;
          try {
            await this.publisher.refetch(target, 'poll');
          } catch (err) {
            failed++;
            this.logger.warn({ targetPath: target, err: (err as Error).message }, 'rotation failed; the old content stays');
          }
        }),
      ),
    );
    this.logger.debug({ refetched: n, failed, ms: Math.round(performance.now() - started) }, 'rotation pass done');
    return n;
  }

  stop(): void {
    this.stopTimer?.();
  }
}
