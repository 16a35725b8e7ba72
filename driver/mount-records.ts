/**
 * What this node has mounted, one record per target path: the governance record served at
 * `GET /mounts` (pod, namespace, service account, SecretProviderClass, provider, target,
 * object ids and versions, synced Secrets, last rotation and refresh) and, kept out of
 * that view, the last NodePublishVolume request, which the rotation poller and on-demand
 * refresh replay. Secret bytes are never part of a record; request secrets and tokens live
 * only in memory and are never serialized.
 */
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';

export interface ObjectVersion {
  id: string;
  version: string;
}

export interface RotationOutcome {
  time: string;
  result: 'rotated' | 'unchanged' | 'failed';
  error?: string;
}

export interface MountRecord {
  pod: string;
  namespace: string;
  podUid: string;
  serviceAccount: string;
  secretProviderClass: string;
  provider: string;
  targetPath: string;
  objects: ObjectVersion[];
  syncedSecrets: string[];
  mountedAt: string;
  /** When the content was last fetched from the provider (mount, rotation or refresh). */
  lastUpdate: string;
  lastRotation?: RotationOutcome;
  lastRefresh?: RotationOutcome & { requestedAt: string };
}

interface Entry {
  record: MountRecord;
  request: NodePublishVolumeRequest__Output;
  /** epoch ms of the last provider call for this volume (success or failure). */
  lastCheckMs: number;
  failures: number;
  nextAttemptMs: number;
}

export class MountRecords {
  private readonly entries = new Map<string, Entry>();

  upsert(record: MountRecord, request: NodePublishVolumeRequest__Output): void {
    const previous = this.entries.get(record.targetPath);
    this.entries.set(record.targetPath, {
      record: { ...record, syncedSecrets: previous?.record.syncedSecrets ?? record.syncedSecrets, lastRefresh: previous?.record.lastRefresh ?? record.lastRefresh },
      request,
      lastCheckMs: Date.now(),
      failures: 0,
      nextAttemptMs: 0,
    });
  }

  get(targetPath: string): MountRecord | undefined {
    return this.entries.get(targetPath)?.record;
  }

  request(targetPath: string): NodePublishVolumeRequest__Output | undefined {
    return this.entries.get(targetPath)?.request;
  }

  delete(targetPath: string): void {
    this.entries.delete(targetPath);
  }

  /** Records a rotation attempt; a failure pushes the next attempt out exponentially. */
  rotated(targetPath: string, outcome: RotationOutcome, backoff: { baseMs: number; maxMs: number }, objects?: ObjectVersion[]): void {
    const e = this.entries.get(targetPath);
    if (!e) return;
    e.lastCheckMs = Date.now();
    e.record.lastRotation = outcome;
    if (outcome.result === 'failed') {
      e.failures++;
      e.nextAttemptMs = Date.now() + Math.min(backoff.maxMs, backoff.baseMs * 2 ** (e.failures - 1));
    } else {
      e.failures = 0;
      e.nextAttemptMs = 0;
      e.record.lastUpdate = outcome.time;
      if (objects) e.record.objects = objects;
    }
  }

  refreshed(targetPath: string, outcome: RotationOutcome & { requestedAt: string }): void {
    const e = this.entries.get(targetPath);
    if (e) e.record.lastRefresh = outcome;
  }

  /** Whether a rotation of `targetPath` is due: past the interval and not backing off. */
  due(targetPath: string, intervalMs: number, now = Date.now()): boolean {
    const e = this.entries.get(targetPath);
    if (!e) return true;
    return now - e.lastCheckMs >= intervalMs && now >= e.nextAttemptMs;
  }

  /** Whether the volume is backing off after failed rotations. */
  backingOff(targetPath: string, now = Date.now()): boolean {
    const e = this.entries.get(targetPath);
    return e !== undefined && now < e.nextAttemptMs;
  }

  setSyncedSecrets(targetPath: string, names: string[]): void {
    const e = this.entries.get(targetPath);
    if (e) e.record.syncedSecrets = [...new Set(names)].sort();
  }

  /**
   * The volume this driver mounted for pod `podUid` (`namespace`/`pod`) from SecretProviderClass
   * `spc`, the most recently updated when the pod has several: what the Secret sync reads,
   * never a path taken from an API object.
   */
  volumeOf(namespace: string, pod: string, podUid: string, spc: string): MountRecord | undefined {
    let found: MountRecord | undefined;
    for (const { record: r } of this.entries.values()) {
      if (r.namespace !== namespace || r.pod !== pod || r.podUid !== podUid || r.secretProviderClass !== spc) continue;
      if (!found || r.lastUpdate > found.lastUpdate) found = r;
    }
    return found;
  }

  byPod(podUid: string): MountRecord[] {
    return [...this.entries.values()].filter((e) => e.record.podUid === podUid).map((e) => e.record);
  }

  list(): MountRecord[] {
    return [...this.entries.values()].map((e) => structuredClone(e.record)).sort((a, b) => a.targetPath.localeCompare(b.targetPath));
  }

  targets(): string[] {
    return [...this.entries.keys()];
  }
}
