/**
 * On-demand refresh: setting or changing the annotation
 * `secrets-store.csi.k8s.io/refresh-requested-at` on a pod makes the driver on its node
 * refetch that pod's volumes at once, whatever the poll interval or backoff. It watches
 * this node's pods only (field selector spec.nodeName). The value handled last is kept on
 * each SecretProviderClassPodStatus (same annotation, plus `.../last-refresh` with the
 * result), so a request made while the driver was down is still served once, and the
 * result is also an event on the pod (`SecretRefreshed` or `SecretRefreshFailed`).
 */
import type { Logger } from '../../log/logger.js';
import type { NodeApi, PodInfo } from '../k8s/node-api.js';
import type { SecretsStoreApi } from '../k8s/secrets-store-api.js';
import { podStatusName } from '../k8s/types.js';
import type { MountRecords } from '../mount-records.js';
import type { VolumePublisher } from '../volume-publisher.js';

export const refreshAnnotation = 'secrets-store.csi.k8s.io/refresh-requested-at';
export const lastRefreshAnnotation = 'secrets-store.csi.k8s.io/last-refresh';

export class RefreshWatcher {
  private stopWatch: (() => void) | undefined;
  private readonly inProgress = new Map<string, string>();
  private readonly served = new Map<string, string>();

  constructor(
    private readonly nodeId: string,
    private readonly publisher: VolumePublisher,
    private readonly records: MountRecords,
    private readonly publishApi: SecretsStoreApi,
    private readonly nodeApi: NodeApi,
    private readonly logger: Logger,
  ) {}

  start(): this {
    this.stopWatch = this.nodeApi.watchPods(`spec.nodeName=${this.nodeId}`, {
      upsert: (pod) => void this.check(pod),
      remove: (pod) => {
        this.served.delete(pod.uid);
      },
    });
    return this;
  }

  private async check(pod: PodInfo): Promise<void> {
    const requested = pod.annotations[refreshAnnotation];
    if (!requested || pod.terminating || this.inProgress.get(pod.uid) === requested || this.served.get(pod.uid) === requested) return;
    const volumes = this.records.byPod(pod.uid);
    if (volumes.length === 0) return;
    this.inProgress.set(pod.uid, requested);
    try {
      for (const v of volumes) {
        const statusName = podStatusName(v.pod, v.namespace, v.secretProviderClass);
        const status = await this.publishApi.getPodStatus(v.namespace, statusName).catch(() => null);
        if (status?.metadata.annotations?.[refreshAnnotation] === requested) continue; // already served
        let result: { time: string; result: 'rotated' | 'unchanged' | 'failed'; error?: string };
        try {
          const r = await this.publisher.refetch(v.targetPath, 'refresh');
          result = { time: new Date().toISOString(), result: r?.rotated ? 'rotated' : 'unchanged' };
        } catch (err) {
          result = { time: new Date().toISOString(), result: 'failed', error: (err as Error).message };
        }
        this.records.refreshed(v.targetPath, { ...result, requestedAt: requested });
        const podRef = { name: pod.name, namespace: pod.namespace, uid: pod.uid };
        if (result.result === 'failed') {
          await this.nodeApi.recordEvent(podRef, 'Warning', 'SecretRefreshFailed', `refresh requested at ${requested} of SecretProviderClass ${v.secretProviderClass} failed: ${result.error}`);
        } else {
          await this.nodeApi.recordEvent(podRef, 'Normal', 'SecretRefreshed', `refresh requested at ${requested}: SecretProviderClass ${v.secretProviderClass} ${result.result === 'rotated' ? 'content changed' : 'content unchanged'}`);
        }
        await this.nodeApi
          .annotatePodStatus(v.namespace, statusName, { [refreshAnnotation]: requested, [lastRefreshAnnotation]: JSON.stringify(result) })
          .catch((err: Error) => this.logger.warn({ podStatus: statusName, err: err.message }, 'failed to record the refresh on the pod status'));
      }
      this.served.set(pod.uid, requested);
    } finally {
      this.inProgress.delete(pod.uid);
    }
  }

  stop(): void {
    this.stopWatch?.();
  }
}
