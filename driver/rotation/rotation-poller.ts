/**
 * The driver-side rotation poller (`--enable-secret-rotation`): every tick it refetches
 * the mounted volumes whose last provider call is older than `--rotation-poll-interval` and
 * that are not backing off after a failure — so rotation happens even under kubelets that
 * never republish. Volumes are refetched one after another with the same code path as the
 * kubelet's republish (per-target locks keep the two from overlapping).
 */
import type { Logger } from '../../log/logger.js';
import type { MountRecords } from '../mount-records.js';
import type { VolumePublisher } from '../volume-publisher.js';

export class RotationPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly publisher: VolumePublisher,
    private readonly records: MountRecords,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): this {
    const tick = Math.max(100, Math.min(this.intervalMs / 2, 30_000));
    this.timer = setInterval(() => void this.pass(), tick);
    this.timer.unref();
    return this;
  }

  /** One pass over the due volumes; returns how many were refetched. */
  async pass(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let n = 0;
    try {
      for (const target of this.records.targets()) {
        if (!this.records.due(target, this.intervalMs)) continue;
        n++;
        try {
          await this.publisher.refetch(target, 'poll');
        } catch (err) {
          this.logger.warn({ targetPath: target, err: (err as Error).message }, 'rotation failed; the old content stays');
        }
      }
    } finally {
      this.running = false;
    }
    return n;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
