/**
 * The simulated scheduler: binds each unscheduled pod to the Ready node running the fewest
 * pods (ties by name), and records a `Scheduled` event. With no node a pod stays Pending
 * with a `FailedScheduling` event, as with a real scheduler.
 */
import type { KubeObject, ObjectStore } from '../apiserver/object-store.js';
import { EventRecorder } from './event-recorder.js';
import { WorkQueue } from './work-queue.js';

interface PodSpec {
  nodeName?: string;
  schedulerName?: string;
}

export class Scheduler {
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly store: ObjectStore) {
    this.queue = new WorkQueue((key) => this.schedule(key));
    this.events = new EventRecorder(store, { component: 'default-scheduler' });
  }

  start(): this {
    this.unsubscribe = this.store.onEvent((e) => {
      if (e.plural === 'pods' && e.type !== 'DELETED' && !(e.object.spec as PodSpec | undefined)?.nodeName) {
        this.queue.add(`${e.namespace}/${e.object.metadata.name}`);
      }
      if (e.plural === 'nodes' && e.type === 'ADDED') {
        for (const p of this.store.list('pods')) if (!(p.spec as PodSpec | undefined)?.nodeName) this.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
      }
    });
    return this;
  }

  private readyNodes(): KubeObject[] {
    return this.store.list('nodes').filter((n) => {
      const conditions = (n.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
      return conditions.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec as { unschedulable?: boolean } | undefined)?.unschedulable;
    });
  }

  private schedule(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.store.get('pods', namespace, name);
    if (!pod || pod.metadata.deletionTimestamp || (pod.spec as PodSpec | undefined)?.nodeName) return;
    const nodes = this.readyNodes();
    if (nodes.length === 0) {
      this.events.record(pod, 'Warning', 'FailedScheduling', '0/0 nodes are available: no nodes available to schedule pods.');
      return;
    }
    const load = new Map(nodes.map((n) => [n.metadata.name!, 0]));
    for (const p of this.store.list('pods')) {
      const node = (p.spec as PodSpec | undefined)?.nodeName;
      if (node && load.has(node)) load.set(node, load.get(node)! + 1);
    }
    const [target] = [...load].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]!;
    pod.spec = { ...(pod.spec as object), nodeName: target };
    delete pod.metadata.resourceVersion;
    this.store.update('pods', pod);
    this.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${target}`);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }
}
