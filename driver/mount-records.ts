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
}

export class MountRecords {
  private readonly entries = new Map<string, Entry>();

  upsert(record: MountRecord, request: NodePublishVolumeRequest__Output): void {
    const previous = this.entries.get(record.targetPath);
    this.entries.set(record.targetPath, {
      record: { ...record, syncedSecrets: previous?.record.syncedSecrets ?? record.syncedSecrets, lastRefresh: previous?.record.lastRefresh ?? record.lastRefresh },
      request,
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

  /** Records a rotation attempt's outcome; a success also the new content's time and object versions. */
  rotated(targetPath: string, outcome: RotationOutcome, objects?: ObjectVersion[]): void {
    const e = this.entries.get(targetPath);
    if (!e) return;
    e.record.lastRotation = outcome;
    if (outcome.result !== 'failed') {
      e.record.lastUpdate = outcome.time;
      if (objects) e.record.objects = objects;
    }
  }

  refreshed(targetPath: string, outcome: RotationOutcome & { requestedAt: string }): void {
    const e = this.entries.get(targetPath);
    if (e) e.record.lastRefresh = outcome;
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

  /** Every mounted volume's target and provider (what a rotation pass plans from), without copying the records. */
  *volumes(): IterableIterator<{ targetPath: string; provider: string }> {
    for (const { record } of this.entries.values()) yield { targetPath: record.targetPath, provider: record.provider };
  }
}
