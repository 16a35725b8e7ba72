/**
 * What a fresh namespace gets from the control plane: the `default` ServiceAccount
 * (kube-controller-manager's serviceaccounts-controller).
 */
import type { ObjectStore } from '../apiserver/object-store.js';
import { WorkQueue } from './work-queue.js';

export class NamespaceController {
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly store: ObjectStore) {
    this.queue = new WorkQueue((ns) => this.ensureDefaultServiceAccount(ns));
  }

  start(): this {
    this.unsubscribe = this.store.onEvent((e) => {
      if (e.plural === 'namespaces' && e.type === 'ADDED') this.queue.add(e.object.metadata.name!);
      if (e.plural === 'serviceaccounts' && e.type === 'DELETED' && e.object.metadata.name === 'default') this.queue.add(e.namespace!);
    });
    for (const ns of this.store.list('namespaces')) this.ensureDefaultServiceAccount(ns.metadata.name!);
    return this;
  }

  /** Synchronous so that a namespace made at start has its account before anyone looks. */
  ensureDefaultServiceAccount(namespace: string): void {
    const ns = this.store.get('namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (this.store.get('serviceaccounts', namespace, 'default')) return;
    this.store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }
}
