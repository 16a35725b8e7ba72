/**
 * Secret sync (upstream's secretproviderclasspodstatus controller, per node): watches the
 * SecretProviderClassPodStatus objects labelled with this node, and for each
 * `secretObjects` entry of their SecretProviderClass creates or patches the Kubernetes
 * Secret from the mounted files.
 *
 * Where we differ from upstream (DESIGN §4): one strategic-merge patch keeps every
 * consumer's ownerReference (the pod's controller, e.g. its ReplicaSet, or the SPCPS of a
 * bare pod), so the Secret lives while any consumer does; the Secret carries the time of
 * the content it was built from (`secrets-store.csi.k8s.io/source-updated-at`) and only
 * newer content replaces it, so it converges to the newest mount whatever order events
 * come in; the SPC is read at every sync, so a changed `secretObjects` applies at the next
 * mount or rotation — except that a sync following a mount or rotation uses the SPC that
 * publish read moments before (within `freshSpcMs`) instead of reading it again, which saves
 * one API request per mount, the most common case being an SPC with no `secretObjects`;
 * every successful mount or rotation on this node triggers a sync.
 * Failures become a Warning event `FailedToCreateSecret` on the pod and a retry with
 * exponential backoff; terminating and finished pods are skipped.
 *
 * Which files: only a volume this driver mounted for that pod (its mount record, matched
 * by namespace, pod name, pod uid and SecretProviderClass), never the pod status's
 * `targetPath` — an API object anyone allowed to write pod statuses could point at another
 * namespace's volume. A pod status with no such record (another node's, or a forged one)
 * syncs nothing.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log/logger.js';
import { isNotFound } from '../k8s/api-error.js';
import type { NodeApi } from '../k8s/node-api.js';
import type { SecretsStoreApi } from '../k8s/secrets-store-api.js';
import { nodeNameLabel, type OwnerReference, type SecretProviderClass, type SecretProviderClassPodStatus } from '../k8s/types.js';
import type { DriverMetrics } from '../metrics/driver-metrics.js';
import type { MountRecords } from '../mount-records.js';
import { secretData, SyncError } from './secret-data.js';

export const managedLabel = 'secrets-store.csi.k8s.io/managed';
export const sourceUpdatedAtAnnotation = 'secrets-store.csi.k8s.io/source-updated-at';

export interface SecretSyncOptions {
  nodeId: string;
  publishApi: SecretsStoreApi;
  nodeApi: NodeApi;
  metrics: DriverMetrics;
  records: MountRecords;
  logger: Logger;
  backoff?: { initialMs: number; maxMs: number };
  /** How long the SPC a publish read stands in for a fresh read; default 5 s. */
  freshSpcMs?: number;
}

interface QueueState {
  failures: number;
  timer?: NodeJS.Timeout;
}

/** When the mounted content was written: the mtime of the payload dir `..data` points at. */
async function contentTime(targetPath: string): Promise<Date> {
  const dir = await readlink(join(targetPath, '..data'));
  return (await lstat(join(targetPath, dir))).mtime;
}

export class SecretSyncController {
  private readonly statuses = new Map<string, SecretProviderClassPodStatus>();
  private readonly pending = new Set<string>();
  private readonly state = new Map<string, QueueState>();
  private running = false;
  private stopWatch: (() => void) | undefined;
  private stopped = false;
  /** The SPC each recent publish read, by pod status key, oldest first. */
  private readonly freshSpcs = new Map<string, { spc: SecretProviderClass; at: number }>();

  constructor(private readonly o: SecretSyncOptions) {}

  start(): this {
    this.stopWatch = this.o.nodeApi.watchPodStatuses(`${nodeNameLabel}=${this.o.nodeId}`, {
      upsert: (s) => {
        const key = `${s.metadata.namespace}/${s.metadata.name}`;
        this.statuses.set(key, s);
        this.enqueue(key);
      },
      remove: (s) => {
        const key = `${s.metadata.namespace}/${s.metadata.name}`;
        this.statuses.delete(key);
        const st = this.state.get(key);
        if (st?.timer) clearTimeout(st.timer);
        this.state.delete(key);
      },
    });
    return this;
  }

  /**
   * A mount or rotation on this node finished: sync its Secrets now. `spc` is the
   * SecretProviderClass that publish read; the sync uses it instead of reading it again.
   */
  volumeUpdated(namespace: string, podStatusName: string, spc?: SecretProviderClass): void {
    const key = `${namespace}/${podStatusName}`;
    if (spc) {
      this.dropStaleSpcs();
      this.freshSpcs.delete(key);
      this.freshSpcs.set(key, { spc, at: Date.now() });
    }
    this.enqueue(key);
  }

  private dropStaleSpcs(): void {
    const oldest = Date.now() - (this.o.freshSpcMs ?? 5000);
    for (const [key, e] of this.freshSpcs) {
      if (e.at >= oldest) break;
      this.freshSpcs.delete(key);
    }
  }

  /** The SPC a publish just read for this pod status, else one read now. */
  private async spcFor(key: string, namespace: string, name: string): Promise<SecretProviderClass> {
    this.dropStaleSpcs();
    const fresh = this.freshSpcs.get(key);
    this.freshSpcs.delete(key); // one sync per publish
    if (fresh && fresh.spc.metadata?.name === name) return fresh.spc;
    return this.o.publishApi.getSecretProviderClass(namespace, name);
  }

  private enqueue(key: string): void {
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
      const status = this.statuses.get(key);
      if (!status) continue;
      try {
        await this.sync(status);
        this.state.delete(key);
      } catch (err) {
        const st = this.state.get(key) ?? { failures: 0 };
        st.failures++;
        const b = this.o.backoff ?? { initialMs: 500, maxMs: 60_000 };
        const delay = Math.min(b.maxMs, b.initialMs * 2 ** (st.failures - 1));
        this.o.logger.warn({ podStatus: key, err: (err as Error).message, retryInMs: delay }, 'secret sync failed');
        if (st.timer) clearTimeout(st.timer);
        st.timer = setTimeout(() => {
          st.timer = undefined;
          this.enqueue(key);
        }, delay);
        st.timer.unref();
        this.state.set(key, st);
      }
    }
    this.running = false;
  }

  private async sync(status: SecretProviderClassPodStatus): Promise<void> {
    const namespace = status.metadata.namespace!;
    const { podName, secretProviderClassName, mounted } = status.status ?? ({} as SecretProviderClassPodStatus['status']);
    if (!mounted || !podName || !secretProviderClassName) return;
    let spc;
    try {
      spc = await this.spcFor(`${namespace}/${status.metadata.name}`, namespace, secretProviderClassName);
    } catch (err) {
      if (isNotFound(err)) return; // the SPC is gone: nothing to sync
      throw err;
    }
    const entries = spc.spec.secretObjects ?? [];
    if (entries.length === 0) return;
    const pod = await this.o.nodeApi.getPod(namespace, podName);
    const ownerUid = status.metadata.ownerReferences?.find((r) => r.kind === 'Pod')?.uid;
    if (!pod || pod.terminating || pod.phase === 'Succeeded' || pod.phase === 'Failed' || (ownerUid && pod.uid !== ownerUid)) return;
    const podRef = { name: pod.name, namespace, uid: pod.uid };
    const volume = this.o.records.volumeOf(namespace, pod.name, pod.uid, secretProviderClassName);
    if (!volume) {
      this.o.logger.debug({ podStatus: `${namespace}/${status.metadata.name}`, pod: pod.name }, 'secret sync: no volume of this pod and SecretProviderClass mounted by this driver; nothing to sync');
      return;
    }
    const targetPath = volume.targetPath;
    const provider = spc.spec.provider ?? '';
    const controller = pod.ownerReferences.find((r) => r.controller);
    const owner: OwnerReference = controller
      ? { apiVersion: controller.apiVersion, kind: controller.kind, name: controller.name, uid: controller.uid }
      : { apiVersion: status.apiVersion, kind: 'SecretProviderClassPodStatus', name: status.metadata.name, uid: status.metadata.uid! };
    let updatedAt: Date;
    try {
      updatedAt = await contentTime(targetPath);
    } catch {
      return; // not mounted on this node (any more)
    }
    const names: string[] = [];
    for (const entry of entries) {
      const started = performance.now();
      try {
        if (!entry.secretName) throw new SyncError('a secretObjects entry has no secretName', 'InvalidSecretObject');
        const type = entry.type || 'Opaque';
        const data = await secretData(targetPath, entry);
        const labels = { ...entry.labels, [managedLabel]: 'true' };
        const annotations = { ...entry.annotations, [sourceUpdatedAtAnnotation]: updatedAt.toISOString() };
        const existing = await this.o.nodeApi.getSecret(namespace, entry.secretName);
        if (!existing) {
          await this.o.nodeApi.createSecret({ name: entry.secretName, namespace, type, data, labels, annotations, ownerReferences: [owner] });
        } else {
          if (existing.type !== type) {
            throw new SyncError(`Secret ${namespace}/${entry.secretName} exists with type ${existing.type}, the SecretProviderClass asks for ${type}; delete it to let it be recreated`, 'SecretTypeMismatch');
          }
          const patch: Record<string, unknown> = {};
          if (!existing.ownerReferences.some((r) => r.uid === owner.uid)) patch.metadata = { ownerReferences: [owner] };
          const theirs = existing.annotations[sourceUpdatedAtAnnotation];
          const newer = theirs === undefined || Date.parse(theirs) <= updatedAt.getTime();
          if (newer) {
            const removed = Object.fromEntries(Object.keys(existing.data).filter((k) => !(k in data)).map((k) => [k, null]));
            const sameData = Object.keys(removed).length === 0 && Object.entries(data).every(([k, v]) => existing.data[k] === v);
            const sameMeta = Object.entries(labels).every(([k, v]) => existing.labels[k] === v) && Object.entries(entry.annotations ?? {}).every(([k, v]) => existing.annotations[k] === v);
            if (!sameData || !sameMeta) {
              patch.data = { ...data, ...removed };
              patch.metadata = { ...(patch.metadata as object), labels, annotations };
            }
          }
          if (Object.keys(patch).length > 0) await this.o.nodeApi.patchSecret(namespace, entry.secretName, patch);
        }
        names.push(entry.secretName);
        this.o.metrics.secretSynced(provider, (performance.now() - started) / 1000);
      } catch (err) {
        const reason = err instanceof SyncError ? err.reason : 'FailedToCreateSecret';
        this.o.metrics.secretSynced(provider, (performance.now() - started) / 1000, reason);
        await this.o.nodeApi.recordEvent(podRef, 'Warning', 'FailedToCreateSecret', `failed to sync Secret ${namespace}/${entry.secretName ?? ''} from SecretProviderClass ${secretProviderClassName}: ${(err as Error).message}`);
        throw err;
      }
    }
    this.o.records.setSyncedSecrets(targetPath, names);
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    for (const st of this.state.values()) if (st.timer) clearTimeout(st.timer);
  }
}
