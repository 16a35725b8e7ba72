/**
 * ownerReference garbage collection, as kube-controller-manager does it in the background:
 * when an object is removed, each dependent that has no owner left is deleted in turn
 * (pods gracefully, through their kubelet), and so on down the chain. A dependent that
 * still has a live owner stays and loses the references to the owners that are gone (two
 * Deployments sharing a Secret keep it, with one owner fewer, until both go).
 * (A namespace's content is the namespace controller's: namespace-controller.ts.)
 */
import type { ObjectStore, StoreEvent } from '../apiserver/object-store.js';
import { WorkQueue } from './work-queue.js';

export class GarbageCollector {
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: ObjectStore,
    onError: (what: string, err: unknown) => void = () => undefined,
  ) {
    this.queue = new WorkQueue((key) => this.collect(key), onError);
  }

  start(): this {
    this.unsubscribe = this.store.onEvent((e: StoreEvent) => {
      if (e.type !== 'DELETED') return;
      this.queue.add(`uid:${e.object.metadata.uid}`);
    });
    return this;
  }

  private collect(key: string): void {
    const uid = key.slice(4);
    for (const { plural, object } of [...this.store.all()]) {
      const owners = object.metadata.ownerReferences;
      if (!owners?.some((o) => o.uid === uid)) continue;
      if (object.metadata.deletionTimestamp) continue;
      if (owners.some((o) => this.store.hasUid(o.uid))) {
        // Some owners remain: drop the references to the ones that are gone, as the real
        // garbage collector does, so the owner list shrinks.
        const next = structuredClone(object);
        next.metadata.ownerReferences = owners.filter((o) => this.store.hasUid(o.uid));
        delete next.metadata.resourceVersion;
        this.store.update(plural, next);
        continue;
      }
      this.tryDelete(plural, object.metadata.namespace, object.metadata.name!);
    }
  }

  private tryDelete(plural: string, namespace: string | undefined, name: string): void {
    try {
      this.store.delete(plural, namespace, name, { propagationPolicy: 'Background' });
    } catch (err) {
      if ((err as { status?: { code?: number } }).status?.code !== 404) throw err;
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }
}
