/**
 * The namespace's life as kube-controller-manager runs it:
 * - a fresh namespace gets its `default` ServiceAccount (the serviceaccounts-controller);
 * - a deleted namespace is Terminating (the API server set its deletionTimestamp and
 *   status.phase; spec.finalizers holds `kubernetes`): every namespaced object in it is
 *   deleted (pods gracefully, through their kubelet; objects with finalizers wait for them),
 *   the namespace's conditions say what remains, and once nothing does the `kubernetes`
 *   finalizer is removed, which removes the namespace.
 */
import type { KubeObject, ObjectStore } from '../apiserver/object-store.js';
import { resourceByPlural } from '../apiserver/resources.js';
import { WorkQueue } from './work-queue.js';

const namespaceFinalizer = 'kubernetes';
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** The conditions the real controller reports while content remains (namespace_deleter.go). */
function deletionConditions(remaining: Map<string, number>, finalizing: Map<string, number>): Condition[] {
  const list = (m: Map<string, number>, joiner: string) => [...m].map(([r, n]) => `${r} ${joiner} ${n} resource instances`).sort().join(', ');
  return [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    remaining.size > 0
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${list(remaining, 'has')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    finalizing.size > 0
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${list(finalizing, 'in')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
}

export class NamespaceController {
  private readonly accounts: WorkQueue;
  private readonly deletions: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: ObjectStore,
    onError: (what: string, err: unknown) => void = () => undefined,
  ) {
    this.accounts = new WorkQueue((ns) => this.ensureDefaultServiceAccount(ns), onError);
    this.deletions = new WorkQueue((ns) => this.syncTerminating(ns), onError);
  }

  start(): this {
    this.unsubscribe = this.store.onEvent((e) => {
      if (e.plural === 'namespaces') {
        if (e.type === 'ADDED') this.accounts.add(e.object.metadata.name!);
        if (e.type !== 'DELETED' && e.object.metadata.deletionTimestamp) this.deletions.add(e.object.metadata.name!);
        return;
      }
      if (e.plural === 'serviceaccounts' && e.type === 'DELETED' && e.object.metadata.name === 'default') this.accounts.add(e.namespace!);
      // Content of a terminating namespace changed: look again at what remains.
      if (e.namespace && (e.type === 'DELETED' || e.object.metadata.deletionTimestamp) && this.store.get('namespaces', undefined, e.namespace)?.metadata.deletionTimestamp) {
        this.deletions.add(e.namespace);
      }
    });
    for (const ns of this.store.list('namespaces')) {
      this.ensureDefaultServiceAccount(ns.metadata.name!);
      if (ns.metadata.deletionTimestamp) this.deletions.add(ns.metadata.name!);
    }
    return this;
  }

  /** Synchronous so that a namespace made at start has its account before anyone looks. */
  ensureDefaultServiceAccount(namespace: string): void {
    const ns = this.store.get('namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (this.store.get('serviceaccounts', namespace, 'default')) return;
    this.store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
  }

  /** Deletes what is left in a terminating namespace; finalizes it when nothing is. */
  private syncTerminating(namespace: string): void {
    const ns = this.store.get('namespaces', undefined, namespace);
    if (!ns?.metadata.deletionTimestamp) return;
    const content = [...this.store.all()].filter(({ plural, object }) => object.metadata.namespace === namespace && resourceByPlural(plural).namespaced);
    const remaining = new Map<string, number>();
    const finalizing = new Map<string, number>();
    for (const { plural, object } of content) {
      const r = resourceByPlural(plural);
      const name = `${plural}.${r.group}`; // `pods.` for the core group, as the real message has it
      remaining.set(name, (remaining.get(name) ?? 0) + 1);
      for (const f of object.metadata.finalizers ?? []) finalizing.set(f, (finalizing.get(f) ?? 0) + 1);
      if (object.metadata.deletionTimestamp) continue;
      try {
        this.store.delete(plural, namespace, object.metadata.name!, { propagationPolicy: 'Background' });
      } catch (err) {
        if ((err as { status?: { code?: number } }).status?.code !== 404) throw err;
      }
    }
    if (content.length > 0) {
      this.setConditions(ns, deletionConditions(remaining, finalizing));
      return; // The deletions' events bring the namespace back here.
    }
    const spec = (ns.spec ?? {}) as { finalizers?: string[] };
    if (!spec.finalizers?.includes(namespaceFinalizer)) return;
    delete ns.metadata.resourceVersion;
    this.store.update('namespaces', { ...ns, spec: { ...spec, finalizers: spec.finalizers.filter((f) => f !== namespaceFinalizer) } });
  }

  private setConditions(ns: KubeObject, conditions: Condition[]): void {
    const status = (ns.status ?? {}) as { phase?: string; conditions?: Condition[] };
    const previous = new Map((status.conditions ?? []).map((c) => [c.type, c]));
    const next = conditions.map((c) => {
      const old = previous.get(c.type);
      const same = old && old.status === c.status && old.reason === c.reason && old.message === c.message;
      return same ? old : { ...c, lastTransitionTime: now() };
    });
    if (next.every((c, i) => c === (status.conditions ?? [])[i])) return;
    this.store.update('namespaces', { ...ns, status: { ...status, conditions: next } }, { subresource: 'status' });
  }

  stop(): void {
    this.unsubscribe?.();
    this.accounts.stop();
    this.deletions.stop();
  }
}
