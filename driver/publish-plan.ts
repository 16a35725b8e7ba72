/**
 * What a NodePublishVolume (or a rotation poll, or a refresh) should do, decided from what
 * was observed and nothing else: no I/O here, so every combination is a row of a table test
 * (test/driver/publish-plan.test.ts) and a fuzz target.
 */

/** Why a publish runs: the kubelet's call, the driver's rotation poller, or a refresh the user asked for. */
export type PublishMode = 'kubelet' | 'poll' | 'refresh';

/**
 * What is at the target: `absent` (no volume), `incomplete` (our tmpfs without `..data`: a
 * publish died between mounting and writing) or `mounted` (a volume with content).
 */
export type VolumeState = 'absent' | 'incomplete' | 'mounted';

export interface PublishState {
  mode: PublishMode;
  volume: VolumeState;
  /** The driver holds a record of this target (it published it in this process). */
  recorded: boolean;
  rotationEnabled: boolean;
  /** For a recorded volume: past the rotation interval and not backing off. */
  due: boolean;
  /** How old the content is (its mtime), for a volume found mounted without a record. */
  contentAgeMs?: number;
  rotationPollIntervalMs: number;
}

export type SkipReason = 'already-mounted' | 'not-due' | 'gone';

export type PublishPlan =
  | { action: 'skip'; reason: SkipReason }
  /** Mount and write; `reset`: first unmount the incomplete volume found there. */
  | { action: 'first-mount'; reset: boolean }
  /** Fetch again into the mounted volume (rotation, refresh, or a volume never recorded). */
  | { action: 'remount' }
  /**
   * A volume mounted before this process started: learn it from its pod status, then
   * `ifAdopted`; with no pod status (the publish that wrote it died before recording it),
   * fetch and record it (a remount).
   */
  | { action: 'adopt-after-restart'; ifAdopted: 'skip' | 'remount' };

export function planPublish(s: PublishState): PublishPlan {
  if (s.volume !== 'mounted') {
    // The poller and refresh only fetch into a volume that is there: one unpublished (or
    // never completed) meanwhile is not theirs to make again.
    if (s.mode !== 'kubelet') return { action: 'skip', reason: 'gone' };
    return { action: 'first-mount', reset: s.volume === 'incomplete' };
  }
  if (s.mode === 'refresh') return { action: 'remount' };
  if (!s.recorded) {
    if (s.mode === 'poll') return { action: 'skip', reason: 'gone' };
    const fresh = s.contentAgeMs !== undefined && s.contentAgeMs < s.rotationPollIntervalMs;
    return { action: 'adopt-after-restart', ifAdopted: !s.rotationEnabled || fresh ? 'skip' : 'remount' };
  }
  if (s.mode === 'kubelet' && !s.rotationEnabled) return { action: 'skip', reason: 'already-mounted' };
  return s.due ? { action: 'remount' } : { action: 'skip', reason: 'not-due' };
}
