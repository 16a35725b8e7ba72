/**
 * Deployments and ReplicaSets, enough for the scenarios: a Deployment owns one ReplicaSet
 * per pod template (named `<deployment>-<template hash>`, label `pod-template-hash`); the
 * current one is scaled to `spec.replicas`, older ones to 0. A ReplicaSet creates and
 * deletes pods it controls (ownerReference with `controller: true`) to match its replicas.
 * Both report replicas / readyReplicas / availableReplicas in their status; a Deployment
 * also observedGeneration, updatedReplicas and its Available / Progressing conditions, so
 * `kubectl rollout status` sees a rollout finish.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ObjectStore, OwnerReference } from '../apiserver/object-store.js';
import { labelSelectorFromObject, matchesLabels } from '../apiserver/selectors.js';
import { EventRecorder } from './event-recorder.js';
import { WorkQueue } from './work-queue.js';

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}
interface WorkloadSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: Template;
}

const controllerOf = (o: KubeObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);
const ownerRef = (o: KubeObject, apiVersion: string): OwnerReference => ({
  apiVersion,
  kind: o.kind!,
  name: o.metadata.name!,
  uid: o.metadata.uid!,
  controller: true,
  blockOwnerDeletion: true,
});
const isReady = (pod: KubeObject) =>
  ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function templateHash(template: Template | undefined): string {
  const digest = createHash('sha256').update(JSON.stringify(template ?? {})).digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[digest[i]! % alphabet.length];
  return out;
}

export interface DeploymentCondition {
  type: 'Available' | 'Progressing';
  status: 'True' | 'False';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

interface DeploymentCounts {
  replicas: number;
  updatedReplicas: number;
  availableReplicas: number;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** maxUnavailable of a RollingUpdate strategy (default 25%, percentages rounded down), as deployment util resolves it. */
function maxUnavailable(spec: WorkloadSpec & { strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } } }): number {
  const replicas = spec.replicas ?? 1;
  if (spec.strategy?.type === 'Recreate') return 0;
  const v = spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%';
  const n = typeof v === 'number' ? v : Math.floor((replicas * Number.parseInt(v, 10)) / 100);
  return Math.min(n, replicas);
}

/**
 * The Available and Progressing conditions the deployment controller keeps (sync.go,
 * progress.go): Available while at least replicas - maxUnavailable pods are available;
 * Progressing NewReplicaSetCreated, then ReplicaSetUpdated while the rollout moves, then
 * NewReplicaSetAvailable once every replica is updated and available. A condition keeps
 * its lastTransitionTime while its status stays.
 */
export function deploymentConditions(spec: WorkloadSpec, s: DeploymentCounts, rsName: string, created: boolean, previous: DeploymentCondition[]): DeploymentCondition[] {
  const replicas = spec.replicas ?? 1;
  const available = s.availableReplicas >= replicas - maxUnavailable(spec);
  const complete = s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas;
  const want: Array<Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>> = [
    available
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    complete
      ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }
      : created
        ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` }
        : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
  ];
  return want.map((c) => {
    const old = previous.find((p) => p.type === c.type);
    if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return old;
    const t = now();
    return { ...c, lastUpdateTime: t, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : t };
  });
}

export class WorkloadControllers {
  private readonly deployments: WorkQueue;
  private readonly replicaSets: WorkQueue;
  private readonly events: EventRecorder;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly store: ObjectStore) {
    this.deployments = new WorkQueue((key) => this.syncDeployment(key));
    this.replicaSets = new WorkQueue((key) => this.syncReplicaSet(key));
    this.events = new EventRecorder(store, { component: 'deployment-controller' });
  }

  start(): this {
    this.unsubscribe = this.store.onEvent((e) => {
      const key = `${e.namespace}/${e.object.metadata.name}`;
      const owner = controllerOf(e.object);
      if (e.plural === 'deployments') this.deployments.add(key);
      if (e.plural === 'replicasets') {
        this.replicaSets.add(key);
        if (owner?.kind === 'Deployment') this.deployments.add(`${e.namespace}/${owner.name}`);
      }
      if (e.plural === 'pods' && owner?.kind === 'ReplicaSet') this.replicaSets.add(`${e.namespace}/${owner.name}`);
    });
    return this;
  }

  private syncDeployment(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const d = this.store.get('deployments', namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = d.spec as WorkloadSpec;
    const hash = templateHash(spec.template);
    const owned = this.store.list('replicasets', namespace).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
    const rsName = `${name}-${hash}`;
    let current = owned.find((rs) => rs.metadata.name === rsName);
    const replicas = spec.replicas ?? 1;
    const created = !current;
    if (!current) {
      const labels = { ...spec.template?.metadata?.labels, 'pod-template-hash': hash };
      current = this.store.create('replicasets', {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: rsName, namespace, labels, ownerReferences: [ownerRef(d, 'apps/v1')] },
        spec: {
          replicas,
          selector: { matchLabels: { ...spec.selector?.matchLabels, 'pod-template-hash': hash } },
          template: { ...spec.template, metadata: { ...spec.template?.metadata, labels } },
        },
      });
      this.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rsName} from 0 to ${replicas}`);
    } else if ((current.spec as WorkloadSpec).replicas !== replicas) {
      const from = (current.spec as WorkloadSpec).replicas ?? 1;
      current = this.store.update('replicasets', { ...current, spec: { ...(current.spec as object), replicas } });
      this.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rsName} from ${from} to ${replicas}`);
    }
    for (const old of owned) {
      if (old.metadata.name === rsName || (old.spec as WorkloadSpec).replicas === 0) continue;
      this.store.update('replicasets', { ...old, spec: { ...(old.spec as object), replicas: 0 } });
    }
    const statuses = this.store.list('replicasets', namespace).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid).map((rs) => rs.status as Record<string, number> | undefined);
    const sum = (k: string) => statuses.reduce((a, s) => a + (s?.[k] ?? 0), 0);
    const currentStatus = current.status as Record<string, number> | undefined;
    const counts = {
      observedGeneration: d.metadata.generation,
      replicas: sum('replicas'),
      updatedReplicas: currentStatus?.replicas ?? 0,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: sum('availableReplicas'),
    };
    const previous = (d.status ?? {}) as { conditions?: DeploymentCondition[] };
    const conditions = deploymentConditions(spec, counts, rsName, created, previous.conditions ?? []);
    // DeploymentStatus's counts are omitempty in Go: a zero count is left out, as the real server writes it.
    const nonZero = Object.fromEntries(Object.entries({ ...counts, unavailableReplicas: counts.replicas - counts.availableReplicas }).filter(([, v]) => v !== undefined && v > 0));
    const status = { ...nonZero, conditions };
    if (!isDeepStrictEqual(d.status, status)) this.store.update('deployments', { ...d, status }, { subresource: 'status' });
  }

  private syncReplicaSet(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const rs = this.store.get('replicasets', namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rs.spec as WorkloadSpec;
    const selector = labelSelectorFromObject(spec.selector ?? {});
    const pods = this.store
      .list('pods', namespace)
      .filter((p) => controllerOf(p)?.uid === rs.metadata.uid && matchesLabels(selector, p.metadata.labels));
    const active = pods.filter((p) => !p.metadata.deletionTimestamp);
    const want = spec.replicas ?? 1;
    for (let i = active.length; i < want; i++) {
      this.store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${name}-`,
          namespace,
          labels: spec.template?.metadata?.labels ?? {},
          ...(spec.template?.metadata?.annotations ? { annotations: spec.template.metadata.annotations } : {}),
          ownerReferences: [ownerRef(rs, 'apps/v1')],
        },
        spec: structuredClone(spec.template?.spec ?? {}),
        status: { phase: 'Pending' },
      });
    }
    if (active.length > want) {
      const extra = active.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')).slice(0, active.length - want);
      for (const p of extra) this.store.delete('pods', namespace, p.metadata.name!);
    }
    const ready = active.filter(isReady).length;
    const status = { replicas: active.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation };
    if (!isDeepStrictEqual(rs.status, status)) this.store.update('replicasets', { ...rs, status }, { subresource: 'status' });
  }

  stop(): void {
    this.unsubscribe?.();
    this.deployments.stop();
    this.replicaSets.stop();
  }
}
