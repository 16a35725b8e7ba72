/**
 * What the scenarios share: the fake provider's example objects (what the files must
 * contain), manifests for SecretProviderClasses, pods and Deployments, the provider's
 * control API, and reading the driver's metrics.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../driver/version.js';
import { controlUrl, type Cluster, type KubeObject, type PodRef } from '../cluster/cluster.js';
import { isRunning } from '../cluster/kube-objects.js';
import type { StepContext } from './scenario.js';

export { isRunning };

/** The example store's objects by name (the default store of every fake provider). */
export function exampleObjects(): Map<string, string> {
  const doc = parse(readFileSync(join(packageRoot(), 'fake-providers', 'examples', 'store.yaml'), 'utf8')) as { objects: Array<{ name: string; contents: string }> };
  return new Map(doc.objects.map((o) => [o.name, o.contents]));
}

export interface SpcObject {
  objectName: string;
  fileName?: string;
  mode?: string;
}

export function spcManifest(namespace: string, name: string, objects: SpcObject[], extra: Record<string, unknown> = {}, apiVersion = 'secrets-store.csi.x-k8s.io/v1'): KubeObject {
  const lines = objects.map((o) => [`- objectName: ${o.objectName}`, ...(o.fileName ? [`  fileName: ${o.fileName}`] : []), ...(o.mode ? [`  mode: "${o.mode}"`] : [])].join('\n'));
  return {
    apiVersion,
    kind: 'SecretProviderClass',
    metadata: { name, namespace },
    spec: { provider: 'fake', parameters: { objects: `${lines.join('\n')}\n` }, ...extra },
  };
}

export function csiVolume(name: string, spc: string) {
  return { name, csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: spc } } };
}

export function podManifest(namespace: string, name: string, volumes: Array<{ name: string; spc: string }>, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      containers: [{ name: 'app', image: 'registry.example/app:1', volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/mnt/${v.name}`, readOnly: true })) }],
      volumes: volumes.map((v) => csiVolume(v.name, v.spc)),
    },
  };
}

export function deploymentManifest(namespace: string, name: string, spc: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }], volumes: [csiVolume('secrets', spc)] },
      },
    },
  };
}

export const ref = (namespace: string, name: string): PodRef => ({ namespace, name });

/** Waits for `n` pods with label app=`app` and for each to be Running. */
export async function runningPods(ctx: StepContext, app: string, n: number, timeoutMs = 30_000): Promise<KubeObject[]> {
  const pods = await ctx.eventually(async () => {
    const list = await ctx.cluster.list('v1', 'Pod', ctx.namespace, { labelSelector: `app=${app}` });
    return list.filter((p) => !p.metadata.deletionTimestamp).length === n && list.every(isRunning) && list;
  }, `${n} pods of ${app} Running`, timeoutMs, { expected: `${n} Running`, seen: async () => (await ctx.cluster.list('v1', 'Pod', ctx.namespace, { labelSelector: `app=${app}` })).map((p) => `${p.metadata.name}:${(p.status as { phase?: string })?.phase}`) });
  return pods;
}

export interface ProviderState {
  objects: Array<{ name: string; version: string }>;
  requests: number;
  inflight: number;
  maxInflight: number;
  lastRequest: { currentObjectVersion: Array<{ id: string; version: string }> } | null;
}

export async function providerState(cluster: Cluster, i = 0): Promise<ProviderState> {
  const p = cluster.providers('fake')[i]!;
  return (await (await fetch(`${controlUrl(p)}/state`)).json()) as ProviderState;
}

/** Sets an object on every fake provider of the cluster; returns its new version. */
export async function putObject(cluster: Cluster, name: string, contents: string): Promise<string> {
  let version = '';
  for (const p of cluster.providers('fake')) {
    const control = controlUrl(p);
    const res = await fetch(`${control}/objects/${name}`, { method: 'PUT', body: JSON.stringify({ contents }) });
    if (!res.ok) throw new Error(`PUT /objects/${name} on ${control}: HTTP ${res.status} ${await res.text()}`);
    version = ((await res.json()) as { version: string }).version;
  }
  return version;
}

export async function setFault(cluster: Cluster, fault: Record<string, unknown> | null): Promise<void> {
  for (const p of cluster.providers('fake')) {
    const control = controlUrl(p);
    const res = await fetch(`${control}/faults`, fault ? { method: 'PUT', body: JSON.stringify(fault) } : { method: 'DELETE' });
    if (!res.ok) throw new Error(`faults on ${control}: HTTP ${res.status} ${await res.text()}`);
  }
}

/**
 * The sum of a counter's series that carry at least `labels`, or undefined when none does.
 * Label order and extra labels do not matter: upstream's OpenTelemetry exporter orders
 * labels by name and adds its own (`otel_scope_name`, ...).
 */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

/** histogram_quantile over a histogram's cumulative buckets (seconds), as Prometheus estimates it. */
export function histogramQuantile(text: string, name: string, labels: string, q: number): number | undefined {
  const wanted = labels.split(',').filter(Boolean);
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => {
      const inner = l.slice(l.indexOf('{') + 1, l.lastIndexOf('}'));
      const parts = inner.split(',');
      const le = parts.find((p) => p.startsWith('le='))?.slice(4, -1);
      const ok = wanted.every((w) => parts.includes(w));
      return ok && le !== undefined ? { le: le === '+Inf' ? Infinity : Number(le), count: Number(l.slice(l.lastIndexOf('} ') + 2)) } : undefined;
    })
    .filter((b): b is { le: number; count: number } => b !== undefined)
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Cumulative bucket counts of a histogram series (le → count). */
export function histogramBuckets(text: string, name: string, labels: string): Map<number, number> {
  const wanted = labels.split(',').filter(Boolean);
  const out = new Map<number, number>();
  for (const l of text.split('\n')) {
    if (!l.startsWith(`${name}_bucket{`)) continue;
    const parts = l.slice(l.indexOf('{') + 1, l.lastIndexOf('}')).split(',');
    const le = parts.find((p) => p.startsWith('le='))?.slice(4, -1);
    if (le === undefined || !wanted.every((w) => parts.includes(w))) continue;
    out.set(le === '+Inf' ? Infinity : Number(le), Number(l.slice(l.lastIndexOf('} ') + 2)));
  }
  return out;
}

/** histogram_quantile over the observations made between two snapshots of the buckets. */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): number | undefined {
  // Counters went down: the driver restarted in between, so `after` holds only the new process's.
  if ((after.get(Infinity) ?? 0) < (before.get(Infinity) ?? 0)) before = new Map();
  const les = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const count = (after.get(le) ?? 0) - (before.get(le) ?? 0);
    if (count >= rank) return le === Infinity ? prevLe : prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
