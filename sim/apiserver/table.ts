/**
 * Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for (`Accept: ...;as=Table`)
 * so `kubectl get` shows the columns users know (pods' READY, STATUS, RESTARTS, AGE; a
 * Deployment's READY, UP-TO-DATE, AVAILABLE) rather than only NAME and AGE.
 */
import type { KubeObject } from './object-store.js';
import type { ResourceKind } from './resources.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  priority?: number;
  cell(o: KubeObject): string | number;
}

export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

interface PodStatus {
  phase?: string;
  podIP?: string;
  containerStatuses?: Array<{ ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string } } }>;
}

function podStatusText(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const st = (o.status ?? {}) as PodStatus;
  const waiting = st.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  return waiting ?? st.phase ?? 'Pending';
}

const num = (o: KubeObject, path: string[]) => {
  let v: unknown = o;
  for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
  return typeof v === 'number' ? v : 0;
};

function columnsFor(r: ResourceKind): Column[] {
  switch (r.plural) {
    case 'pods':
      return [
        { name: 'Ready', type: 'string', cell: (o) => {
          const cs = ((o.status ?? {}) as PodStatus).containerStatuses ?? [];
          const total = ((o.spec as { containers?: unknown[] } | undefined)?.containers ?? []).length;
          return `${cs.filter((c) => c.ready).length}/${total}`;
        } },
        { name: 'Status', type: 'string', cell: podStatusText },
        { name: 'Restarts', type: 'string', cell: (o) => String((((o.status ?? {}) as PodStatus).containerStatuses ?? []).reduce((a, c) => a + (c.restartCount ?? 0), 0)) },
        { name: 'IP', type: 'string', priority: 1, cell: (o) => ((o.status ?? {}) as PodStatus).podIP ?? '<none>' },
        { name: 'Node', type: 'string', priority: 1, cell: (o) => (o.spec as { nodeName?: string } | undefined)?.nodeName ?? '<none>' },
      ];
    case 'deployments':
      return [
        { name: 'Ready', type: 'string', cell: (o) => `${num(o, ['status', 'readyReplicas'])}/${(o.spec as { replicas?: number }).replicas ?? 1}` },
        { name: 'Up-to-date', type: 'integer', cell: (o) => num(o, ['status', 'updatedReplicas']) },
        { name: 'Available', type: 'integer', cell: (o) => num(o, ['status', 'availableReplicas']) },
      ];
    case 'replicasets':
      return [
        { name: 'Desired', type: 'integer', cell: (o) => (o.spec as { replicas?: number }).replicas ?? 1 },
        { name: 'Current', type: 'integer', cell: (o) => num(o, ['status', 'replicas']) },
        { name: 'Ready', type: 'integer', cell: (o) => num(o, ['status', 'readyReplicas']) },
      ];
    case 'namespaces':
      return [{ name: 'Status', type: 'string', cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : 'Active') }];
    case 'secrets':
      return [
        { name: 'Type', type: 'string', cell: (o) => (o.type as string | undefined) ?? 'Opaque' },
        { name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as object | undefined) ?? {}).length },
      ];
    case 'configmaps':
      return [{ name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as object | undefined) ?? {}).length + Object.keys((o.binaryData as object | undefined) ?? {}).length }];
    case 'events':
      return [
        { name: 'Type', type: 'string', cell: (o) => String(o.type ?? '') },
        { name: 'Reason', type: 'string', cell: (o) => String(o.reason ?? '') },
        { name: 'Object', type: 'string', cell: (o) => {
          const io = (o.involvedObject ?? {}) as { kind?: string; name?: string };
          return `${(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`;
        } },
        { name: 'Message', type: 'string', cell: (o) => String(o.message ?? '') },
      ];
    case 'secretproviderclasses':
      return [{ name: 'Provider', type: 'string', priority: 1, cell: (o) => (o.spec as { provider?: string } | undefined)?.provider ?? '' }];
    case 'secretproviderclasspodstatuses':
      return [
        { name: 'Pod', type: 'string', priority: 1, cell: (o) => (o.status as { podName?: string } | undefined)?.podName ?? '' },
        { name: 'Mounted', type: 'string', priority: 1, cell: (o) => String((o.status as { mounted?: boolean } | undefined)?.mounted ?? false) },
      ];
    default:
      return [];
  }
}

export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

export function toTable(r: ResourceKind, objects: KubeObject[], resourceVersion: string): Record<string, unknown> {
  const columns: Column[] = [
    { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name ?? '' },
    ...columnsFor(r),
    { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) },
  ];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.name, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
