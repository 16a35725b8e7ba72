/**
 * The rest of the driver's Kubernetes boundary, beyond publish: events on pods, targeted
 * reads of a pod, the synced Secrets, the node's SecretProviderClassPodStatus objects, and
 * two watches scoped to this node (SPCPS by the node label, pods by spec.nodeName) — no
 * cluster-wide cache of Secrets or Pods. `NodeApi` is the contract; `KubeNodeApi`
 * implements it over the driver's KubeClient. Failures are thrown as KubeApiErrors
 * (callers decide what a failure means); `recordEvent` never throws.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { isNotFound, KubeApiError } from './api-error.js';
import type { KubeClient } from './kube-client.js';
import { startListWatch, type WatchHandlers } from './list-watch.js';
import { secretsStoreGroup, secretsStoreVersion, type OwnerReference, type PodRef, type SecretProviderClassPodStatus } from './types.js';

export type { WatchHandlers } from './list-watch.js';

export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  nodeName?: string;
  serviceAccountName: string;
  phase?: string;
  terminating: boolean;
  annotations: Record<string, string>;
  ownerReferences: OwnerReference[];
}

export interface SecretInfo {
  name: string;
  namespace: string;
  type: string;
  data: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: OwnerReference[];
  resourceVersion: string;
}

export interface NodeApi {
  recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  getPod(namespace: string, name: string): Promise<PodInfo | null>;
  getSecret(namespace: string, name: string): Promise<SecretInfo | null>;
  createSecret(secret: Omit<SecretInfo, 'resourceVersion'>): Promise<void>;
  /** Strategic merge patch: ownerReferences merge by uid, so other consumers' owners stay. */
  patchSecret(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
  listPodStatuses(labelSelector: string): Promise<SecretProviderClassPodStatus[]>;
  annotatePodStatus(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  /** Label-selected watch of SPCPS objects; restarts itself after errors. Returns stop. */
  watchPodStatuses(labelSelector: string, handlers: WatchHandlers<SecretProviderClassPodStatus>): () => void;
  /** Field-selected watch of pods; restarts itself after errors. Returns stop. */
  watchPods(fieldSelector: string, handlers: WatchHandlers<PodInfo>): () => void;
}

/** The fields of a Pod the driver reads. */
export interface PodObject {
  metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string | null; annotations?: Record<string, string>; ownerReferences?: OwnerReference[] };
  spec?: { nodeName?: string; serviceAccountName?: string };
  status?: { phase?: string };
}

/** The fields of a Secret the driver reads. */
interface SecretObject {
  type?: string;
  data?: Record<string, string>;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: OwnerReference[]; resourceVersion?: string };
}

export function podInfo(p: PodObject): PodInfo {
  return {
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    uid: p.metadata?.uid ?? '',
    ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
    serviceAccountName: p.spec?.serviceAccountName ?? 'default',
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    terminating: p.metadata?.deletionTimestamp !== undefined && p.metadata?.deletionTimestamp !== null,
    annotations: p.metadata?.annotations ?? {},
    ownerReferences: p.metadata?.ownerReferences ?? [],
  };
}

const rfc3339 = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const spcpsPath = `/apis/${secretsStoreGroup}/${secretsStoreVersion}/secretproviderclasspodstatuses`;
const ns = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
const spcpsObjectPath = (namespace: string, name: string) =>
  `/apis/${secretsStoreGroup}/${secretsStoreVersion}/namespaces/${encodeURIComponent(namespace)}/secretproviderclasspodstatuses/${encodeURIComponent(name)}`;

export class KubeNodeApi implements NodeApi {
  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    private readonly component = 'secrets-store-csi-driver',
    private readonly host = '',
  ) {}

  /**
   * Records an event, retrying a failed create twice (after 200 ms and 400 ms) unless the
   * API refused it for good (a 4xx other than 409 and 429), as client-go's event recorder
   * retries; a create that still fails is logged, never thrown.
   */
  async recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const now = rfc3339();
      try {
        await this.client.request('POST', `${ns(pod.namespace)}/events`, {
          what: `failed to record event ${reason} on pod ${pod.namespace}/${pod.name}`,
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            // A fresh name per attempt: a create that failed may have been stored after all.
            metadata: { name: `${pod.name}.${randomBytes(8).toString('hex')}`, namespace: pod.namespace },
            involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid },
            reason,
            message,
            type,
            source: { component: this.component, host: this.host },
            reportingComponent: this.component,
            reportingInstance: this.host,
            count: 1,
            firstTimestamp: now,
            lastTimestamp: now,
          },
        });
        return;
      } catch (err) {
        const status = err instanceof KubeApiError ? err.status : undefined;
        const final = status !== undefined && status >= 400 && status < 500 && status !== 409 && status !== 429;
        if (final || attempt >= 3) {
          this.logger.warn({ pod: pod.name, namespace: pod.namespace, reason, err: (err as Error).message, attempts: attempt }, 'failed to record an event');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      }
    }
  }

  async getPod(namespace: string, name: string): Promise<PodInfo | null> {
    try {
      return podInfo(await this.client.request<PodObject>('GET', `${ns(namespace)}/pods/${encodeURIComponent(name)}`, { what: `failed to get pod ${namespace}/${name}` }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async getSecret(namespace: string, name: string): Promise<SecretInfo | null> {
    try {
      const s = await this.client.request<SecretObject>('GET', `${ns(namespace)}/secrets/${encodeURIComponent(name)}`, { what: `failed to get Secret ${namespace}/${name}` });
      return {
        name,
        namespace,
        type: s.type ?? 'Opaque',
        data: s.data ?? {},
        labels: s.metadata?.labels ?? {},
        annotations: s.metadata?.annotations ?? {},
        ownerReferences: s.metadata?.ownerReferences ?? [],
        resourceVersion: s.metadata?.resourceVersion ?? '',
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async createSecret(secret: Omit<SecretInfo, 'resourceVersion'>): Promise<void> {
    await this.client.request('POST', `${ns(secret.namespace)}/secrets`, {
      what: `failed to create Secret ${secret.namespace}/${secret.name}`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secret.name, namespace: secret.namespace, labels: secret.labels, annotations: secret.annotations, ownerReferences: secret.ownerReferences },
        type: secret.type,
        data: secret.data,
      },
    });
  }

  async patchSecret(namespace: string, name: string, patch: Record<string, unknown>): Promise<void> {
    await this.client.request('PATCH', `${ns(namespace)}/secrets/${encodeURIComponent(name)}`, {
      what: `failed to patch Secret ${namespace}/${name}`,
      body: patch,
      contentType: 'application/strategic-merge-patch+json',
    });
  }

  async listPodStatuses(labelSelector: string): Promise<SecretProviderClassPodStatus[]> {
    const list = await this.client.request<{ items?: SecretProviderClassPodStatus[] }>('GET', spcpsPath, {
      query: { labelSelector },
      what: `failed to list SecretProviderClassPodStatuses ${labelSelector}`,
    });
    return list.items ?? [];
  }

  async annotatePodStatus(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    await this.client.request('PATCH', spcpsObjectPath(namespace, name), {
      what: `failed to annotate SecretProviderClassPodStatus ${namespace}/${name}`,
      body: { metadata: { annotations } },
      contentType: 'application/merge-patch+json',
    });
  }

  watchPodStatuses(labelSelector: string, handlers: WatchHandlers<SecretProviderClassPodStatus>): () => void {
    return startListWatch({ client: this.client, path: spcpsPath, selector: { labelSelector }, convert: (o: SecretProviderClassPodStatus) => o, handlers, logger: this.logger });
  }

  watchPods(fieldSelector: string, handlers: WatchHandlers<PodInfo>): () => void {
    return startListWatch({ client: this.client, path: '/api/v1/pods', selector: { fieldSelector }, convert: podInfo, handlers, logger: this.logger });
  }
}
