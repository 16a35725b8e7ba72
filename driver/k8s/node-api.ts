/**
 * The rest of the driver's Kubernetes boundary, beyond publish: events on pods, targeted
 * reads of a pod, the synced Secrets, the node's SecretProviderClassPodStatus objects, and
 * two watches scoped to this node (SPCPS by the node label, pods by spec.nodeName) — no
 * cluster-wide cache of Secrets or Pods. `NodeApi` is the contract; `KubeNodeApi`
 * implements it over @kubernetes/client-node. Errors are thrown as client-node's
 * ApiException (callers decide what a failure means); `recordEvent` never throws.
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Secret,
} from '@kubernetes/client-node';
import { makeApiClient } from './api-client.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { secretsStoreGroup, secretsStoreVersion, type OwnerReference, type PodRef, type SecretProviderClassPodStatus } from './types.js';

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

export interface WatchHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
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

interface PodObject extends KubernetesObject {
  spec?: { nodeName?: string; serviceAccountName?: string };
  status?: { phase?: string };
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
    ownerReferences: (p.metadata?.ownerReferences ?? []) as OwnerReference[],
  };
}

const notFound = (err: unknown) => err instanceof ApiException && err.code === 404;
const rfc3339 = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class KubeNodeApi implements NodeApi {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly watch: Watch;

  constructor(
    private readonly kc: KubeConfig,
    private readonly logger: Logger,
    private readonly component = 'secrets-store-csi-driver',
    private readonly host = '',
  ) {
    this.core = makeApiClient(kc, CoreV1Api);
    this.custom = makeApiClient(kc, CustomObjectsApi);
    this.watch = new Watch(kc);
  }

  /**
   * Records an event, retrying a failed create twice (after 200 ms and 400 ms) unless the
   * API refused it for good (a 4xx other than 409 and 429), as client-go's event recorder
   * retries; a create that still fails is logged, never thrown.
   */
  async recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.core.createNamespacedEvent({
          namespace: pod.namespace,
          body: {
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
            firstTimestamp: new Date(rfc3339()),
            lastTimestamp: new Date(rfc3339()),
          },
        });
        return;
      } catch (err) {
        const final = err instanceof ApiException && err.code >= 400 && err.code < 500 && err.code !== 409 && err.code !== 429;
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
      return podInfo((await this.core.readNamespacedPod({ namespace, name })) as PodObject);
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async getSecret(namespace: string, name: string): Promise<SecretInfo | null> {
    try {
      const s: V1Secret = await this.core.readNamespacedSecret({ namespace, name });
      return {
        name,
        namespace,
        type: s.type ?? 'Opaque',
        data: s.data ?? {},
        labels: s.metadata?.labels ?? {},
        annotations: s.metadata?.annotations ?? {},
        ownerReferences: (s.metadata?.ownerReferences ?? []) as OwnerReference[],
        resourceVersion: s.metadata?.resourceVersion ?? '',
      };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async createSecret(secret: Omit<SecretInfo, 'resourceVersion'>): Promise<void> {
    await this.core.createNamespacedSecret({
      namespace: secret.namespace,
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
    await this.core.patchNamespacedSecret({ namespace, name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  }

  async listPodStatuses(labelSelector: string): Promise<SecretProviderClassPodStatus[]> {
    const list = (await this.custom.listClusterCustomObject({
      group: secretsStoreGroup,
      version: secretsStoreVersion,
      plural: 'secretproviderclasspodstatuses',
      labelSelector,
    })) as { items: SecretProviderClassPodStatus[] };
    return list.items;
  }

  async annotatePodStatus(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { group: secretsStoreGroup, version: secretsStoreVersion, namespace, plural: 'secretproviderclasspodstatuses', name, body: { metadata: { annotations } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  watchPodStatuses(labelSelector: string, handlers: WatchHandlers<SecretProviderClassPodStatus>): () => void {
    return this.runWatch<SecretProviderClassPodStatus>(
      `/apis/${secretsStoreGroup}/${secretsStoreVersion}/secretproviderclasspodstatuses`,
      async () =>
        (await this.custom.listClusterCustomObject({ group: secretsStoreGroup, version: secretsStoreVersion, plural: 'secretproviderclasspodstatuses', labelSelector })) as never,
      { labelSelector },
      (o) => o,
      handlers,
    );
  }

  watchPods(fieldSelector: string, handlers: WatchHandlers<PodInfo>): () => void {
    return this.runWatch<PodInfo>(
      '/api/v1/pods',
      async () => (await this.core.listPodForAllNamespaces({ fieldSelector })) as never,
      { fieldSelector },
      (o) => podInfo(o as PodObject),
      handlers,
    );
  }

  /** A ListWatch that lists, watches, and after an error lists again with backoff. */
  private runWatch<T>(
    path: string,
    list: () => Promise<never>,
    selector: { labelSelector?: string; fieldSelector?: string },
    convert: (o: KubernetesObject & T) => T,
    handlers: WatchHandlers<T>,
  ): () => void {
    let stopped = false;
    let failures = 0;
    let timer: NodeJS.Timeout | undefined;
    const informer = new ListWatch<KubernetesObject & T>(path, this.watch, list, false, selector.labelSelector, selector.fieldSelector);
    informer.on('add', (o) => handlers.upsert(convert(o)));
    informer.on('update', (o) => handlers.upsert(convert(o)));
    informer.on('delete', (o) => handlers.remove(convert(o)));
    informer.on('connect', () => {
      failures = 0;
    });
    const begin = () => void informer.start().catch((err: unknown) => retry(err));
    const retry = (err?: unknown) => {
      if (stopped || timer) return;
      const delay = Math.min(30_000, 500 * 2 ** failures++);
      this.logger.warn({ path, err: (err as Error | undefined)?.message, retryInMs: delay }, 'watch failed; listing again');
      timer = setTimeout(() => {
        timer = undefined;
        begin();
      }, delay);
    };
    informer.on('error', retry);
    begin();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      void informer.stop();
    };
  }
}
