/**
 * Kubernetes Events about an object, written as the kubelet and controllers write them: a
 * repeat of the same type, reason, message and source on the same object bumps `count`
 * and `lastTimestamp` instead of adding another Event.
 */
import { randomBytes } from 'node:crypto';
import type { KubeObject, ObjectStore } from '../apiserver/object-store.js';

export interface EventSource {
  component: string;
  host?: string;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class EventRecorder {
  /** The Event written for each (object, type, reason, message), to aggregate repeats. */
  private readonly written = new Map<string, { namespace: string; name: string }>();

  constructor(
    private readonly store: ObjectStore,
    private readonly source: EventSource,
  ) {}

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = obj.metadata.namespace ?? 'default';
    if (!this.store.get('namespaces', undefined, namespace)) return;
    const involvedObject = {
      apiVersion: obj.apiVersion ?? 'v1',
      kind: obj.kind,
      name: obj.metadata.name,
      namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
    };
    const aggregateKey = `${obj.metadata.uid}\0${type}\0${reason}\0${message}`;
    const previous = this.written.get(aggregateKey);
    const same = previous && this.store.get('events', previous.namespace, previous.name);
    try {
      if (same) {
        this.store.update('events', { ...same, count: ((same.count as number | undefined) ?? 1) + 1, lastTimestamp: now() });
        return;
      }
      const created = this.store.create('events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject,
        reason,
        message,
        type,
        source: this.source,
        count: 1,
        firstTimestamp: now(),
        lastTimestamp: now(),
        reportingComponent: this.source.component,
        reportingInstance: this.source.host ?? '',
      });
      this.written.set(aggregateKey, { namespace, name: created.metadata.name! });
      if (this.written.size > 10_000) this.written.delete(this.written.keys().next().value!);
    } catch {
      // Events are best effort, as in Kubernetes (e.g. the namespace is being deleted).
    }
  }
}
