/**
 * One first mount or remount of a volume, from start to outcome (see volume-publisher.ts).
 */
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import type { PublishTarget } from './publish-request.js';

/** Milliseconds spent in each step of a publish that did work (for logs and profiling). */
export interface PublishTimings {
  spcMs: number;
  mountMs: number;
  providerMs: number;
  writeMs: number;
  statusMs: number;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/** The step a publish attempt is in: what failed, when it fails. */
export type PublishPhase = 'mount' | 'spc' | 'provider' | 'write' | 'status';

/**
 * One first mount or remount, from start to outcome: what it is, for whom, which provider
 * (once the SecretProviderClass named it), which step it is in, and how long each step
 * took. Errors stay as thrown; the attempt says where they came from.
 */
export class PublishAttempt {
  provider = '';
  phase: PublishPhase = 'spc';
  readonly timings: PublishTimings = { spcMs: 0, mountMs: 0, providerMs: 0, writeMs: 0, statusMs: 0 };
  readonly started = performance.now();
  private mark = this.started;

  constructor(
    readonly kind: 'first-mount' | 'remount',
    readonly req: NodePublishVolumeRequest__Output,
    readonly target: PublishTarget,
    readonly deadline: number,
  ) {}

  get remount(): boolean {
    return this.kind === 'remount';
  }

  /** Ends the timing of `step` (from the end of the previous one). */
  lap(step: keyof PublishTimings): void {
    const now = performance.now();
    this.timings[step] = round2(now - this.mark);
    this.mark = now;
  }

  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}
