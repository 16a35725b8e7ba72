/**
 * Object-level API operations through @kubernetes/client-node's generic object API, as
 * any client does them (discovery, then REST): what every `Cluster` implementation shares.
 * Requests share a bounded pool of keep-alive connections; watches have their own
 * (kube-dispatcher.ts says why).
 */
import { ApiException, KubeConfig, KubernetesObjectApi, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { withContext } from '../harness/error-chain.js';
import { parseManifests } from '../sim/apiserver/bootstrap.js';
import { harnessConnections, poolConnections } from './kube-dispatcher.js';
import { podWaitDefaultMs, type ApiOperations, type KubeObject, type ListFilter, type ObjectRef, type PodEvent, type PodRef } from './cluster.js';

const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;
const asObject = (o: KubernetesObject): KubeObject => o as unknown as KubeObject;

/**
 * Runs one API call. An answer of the API server (ApiException, with its HTTP code) passes
 * through as is; anything else — a connection that failed before any answer — becomes an
 * error saying which call failed and why (undici's `fetch failed` hides the why in `cause`).
 */
async function call<T>(what: () => string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiException) throw err;
    throw withContext(what(), err);
  }
}

const refText = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }) => `${o.kind ?? '?'} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;

export class KubeObjects {
  private readonly api: KubernetesObjectApi;

  private readonly watcher: Watch;

  /** A client of the cluster that `kubeconfig` (a file) points at, as its current context. */
  constructor(kubeconfig: string) {
    const load = (connections: number | undefined) => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      return poolConnections(kc, connections);
    };
    this.api = KubernetesObjectApi.makeApiClient(load(harnessConnections));
    this.watcher = new Watch(load(undefined));
  }

  /** The Cluster's API operations, bound to this client: what an implementation spreads into itself. */
  operations(): ApiOperations {
    return {
      apply: (o) => this.apply(o),
      get: (ref) => this.get(ref),
      list: (apiVersion, kind, namespace, filter) => this.list(apiVersion, kind, namespace, filter),
      delete: (ref, options) => this.delete(ref, options),
      waitForPod: (pod, until, timeoutMs) => this.waitForPod(pod, until, timeoutMs),
      events: (namespace, involvedName) => this.events(namespace, involvedName),
      watchPods: (namespace, onEvent) => this.watchPods(namespace, onEvent),
    };
  }

  /** A pod watch in `namespace` (resumes after a dropped connection) until stopped. */
  async watchPods(namespace: string, onEvent: (e: PodEvent) => void): Promise<() => void> {
    let stopped = false;
    let controller: AbortController | undefined;
    let resourceVersion: string | undefined;
    const start = async (): Promise<void> => {
      controller = await call(() => `watch pods in ${namespace}`, () => this.watcher.watch(
        `/api/v1/namespaces/${namespace}/pods`,
        resourceVersion ? { resourceVersion, allowWatchBookmarks: true } : { allowWatchBookmarks: true },
        (type: string, obj: KubeObject) => {
          if (obj?.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') onEvent({ type, pod: obj });
        },
        () => {
          if (!stopped) setTimeout(() => void start().catch(() => undefined), 200);
        },
      ));
    };
    await start();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }

  async apply(objects: string | KubeObject | KubeObject[]): Promise<KubeObject[]> {
    const list = typeof objects === 'string' ? parseManifests(objects, 'manifest') : Array.isArray(objects) ? objects : [objects];
    const out: KubeObject[] = [];
    for (const obj of list) {
      const spec = structuredClone(obj) as unknown as KubernetesObject;
      try {
        out.push(asObject(await call(() => `create ${refText(spec)}`, () => this.api.create(spec))));
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 409)) throw err;
        const current = await call(() => `read ${refText(spec)}`, () => this.api.read(spec as KubernetesObject & { metadata: { name: string } }));
        const next = { ...spec, metadata: { ...spec.metadata, resourceVersion: current.metadata?.resourceVersion } };
        out.push(asObject(await call(() => `replace ${refText(spec)}`, () => this.api.replace(next))));
      }
    }
    return out;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      const metadata = { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
      return asObject(await call(() => `read ${refText({ kind: ref.kind, metadata })}`, () => this.api.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata })));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, filter: ListFilter = {}): Promise<KubeObject[]> {
    const res = await call(
      () => `list ${kind}${namespace ? ` in ${namespace}` : ''}`,
      () => this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, filter.fieldSelector, filter.labelSelector),
    );
    return res.items.map((o) => ({ ...asObject(o), apiVersion, kind }));
  }

  async delete(ref: ObjectRef, options: { gracePeriodSeconds?: number } = {}): Promise<void> {
    try {
      const metadata = { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
      await call(
        () => `delete ${refText({ kind: ref.kind, metadata })}`,
        () => this.api.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata }, undefined, undefined, options.gracePeriodSeconds),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async events(namespace: string, involvedName?: string): Promise<KubeObject[]> {
    const items = await this.list('v1', 'Event', namespace, involvedName ? { fieldSelector: `involvedObject.name=${involvedName}` } : {});
    const at = (e: KubeObject) => String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '');
    return items.sort((a, b) => at(a).localeCompare(at(b)));
  }

  async waitForPod(pod: PodRef, until: 'Running' | 'Deleted' | ((p: KubeObject) => boolean), timeoutMs = podWaitDefaultMs): Promise<KubeObject | undefined> {
    const deadline = Date.now() + timeoutMs;
    let last: KubeObject | undefined;
    let delay = 20;
    for (;;) {
      last = await this.get({ apiVersion: 'v1', kind: 'Pod', ...pod });
      if (until === 'Deleted' ? last === undefined : last !== undefined && (until === 'Running' ? isRunning(last) : until(last))) return last;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(250, delay * 2);
    }
    const events = await this.events(pod.namespace, pod.name).catch(() => []);
    const status = last?.status as { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string }> } | undefined;
    const what = typeof until === 'string' ? until : 'the condition';
    throw new Error(
      [
        `pod ${pod.namespace}/${pod.name} did not become ${what} within ${timeoutMs} ms`,
        `  seen: ${last ? `phase ${status?.phase ?? '?'}, ${JSON.stringify(status?.conditions?.map((c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ''}`) ?? [])}${last.metadata.deletionTimestamp ? ', terminating' : ''}` : 'no such pod'}`,
        '  events:',
        ...(events.length ? events.slice(-10).map((e) => `    ${e.type} ${e.reason}: ${e.message}${(e.count as number) > 1 ? ` (x${e.count})` : ''}`) : ['    (none)']),
      ].join('\n'),
    );
  }
}

export function isRunning(pod: KubeObject): boolean {
  const status = pod.status as { phase?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
  return status?.phase === 'Running' && (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') && !pod.metadata.deletionTimestamp;
}
