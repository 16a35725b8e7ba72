/**
 * What `sscsi k8s up` applies: the files of kind/manifests (CSIDriver, CRDs, RBAC, the driver
 * and fake-provider DaemonSets), changed only where this machine differs from a kind node:
 *  - images mapped (`image`): ours stand in for the upstream sig-storage sidecar images,
 *    which cannot be pulled here;
 *  - the driver pod on the host network, with KUBERNETES_SERVICE_HOST/PORT naming the API
 *    server on 127.0.0.1: there is no kube-proxy, so the `kubernetes` Service's cluster IP
 *    leads nowhere, and the API server listens on loopback only. Its metrics (:8095) and
 *    liveness (:9808) ports are then the node's, where the kubelet probes them;
 *  - `driverArgs` (`-- DRIVER_FLAGS`) appended to the driver container's args;
 *  - `driverOnHost`: no driver container (the driver runs as a host process serving the
 *    same socket path); the registrar and the liveness probe still run in the DaemonSet.
 * Pure: documents in, documents out; the files are not touched.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../../driver/version.js';

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

export interface K8sManifestOptions {
  apiServer: { host: string; port: number };
  /** Maps an image a manifest names to the one this node has (identity for ours). */
  image: (image: string) => string;
  driverOnHost?: boolean;
  /** The driver container's image instead of ours (an image made from another driver binary). */
  driverImage?: string;
  /** Appended to the driver container's args (`sscsi k8s up -- DRIVER_FLAGS`). */
  driverArgs?: readonly string[];
}

export const driverDaemonSet = 'csi-secrets-store';
/** The driver container's metrics (and readiness) port, as kind/manifests set it. */
export const driverMetricsPort = 8095;
export const driverContainer = 'secrets-store';
export const fakeProviderDaemonSet = 'fake-provider';
export const manifestsDir = (root = packageRoot()) => join(root, 'kind', 'manifests');

/** Every document of every kind/manifests/*.yaml, files in name order. */
export async function loadKindManifests(dir = manifestsDir()): Promise<Manifest[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const docs: Manifest[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${join(dir, f)}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as Manifest | null;
      if (value) docs.push(value);
    }
  }
  return docs;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
}

interface PodSpec {
  hostNetwork?: boolean;
  containers: Container[];
  initContainers?: Container[];
}

function podSpec(m: Manifest): PodSpec | undefined {
  if (m.kind !== 'DaemonSet' && m.kind !== 'Deployment' && m.kind !== 'Pod') return undefined;
  if (m.kind === 'Pod') return m.spec as PodSpec;
  return ((m.spec as { template: { spec: PodSpec } }).template ?? {}).spec;
}

export function k8sManifests(docs: readonly Manifest[], o: K8sManifestOptions): Manifest[] {
  return docs.map((original) => {
    const m = structuredClone(original) as Manifest;
    const spec = podSpec(m);
    if (!spec) return m;
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) c.image = o.image(c.image);
    if (m.kind === 'DaemonSet' && m.metadata.name === driverDaemonSet) {
      spec.hostNetwork = true;
      if (o.driverOnHost) spec.containers = spec.containers.filter((c) => c.name !== driverContainer);
      for (const c of spec.containers) {
        if (c.name === driverContainer) {
          if (o.driverImage !== undefined) {
            c.image = o.driverImage;
            // Ours answers /healthz on its metrics port; upstream's serves only /metrics there
            // (its health is the liveness-probe sidecar's), as in upstream's own DaemonSet.
            delete (c as { readinessProbe?: unknown }).readinessProbe;
          }
          c.env = [
            ...(c.env ?? []).filter((e) => e.name !== 'KUBERNETES_SERVICE_HOST' && e.name !== 'KUBERNETES_SERVICE_PORT'),
            { name: 'KUBERNETES_SERVICE_HOST', value: o.apiServer.host },
            { name: 'KUBERNETES_SERVICE_PORT', value: String(o.apiServer.port) },
          ];
          c.args = [...(c.args ?? []), ...(o.driverArgs ?? [])];
        }
      }
    }
    return m;
  });
}

/** Every container image the manifests' pods name (containers and init containers). */
export function manifestImages(docs: readonly Manifest[]): Set<string> {
  const images = new Set<string>();
  for (const m of docs) for (const c of [...(podSpec(m)?.containers ?? []), ...(podSpec(m)?.initContainers ?? [])]) images.add(c.image);
  return images;
}

/**
 * Why the install cannot work: images its pods need that the node could not be given (no
 * pull can fetch them here). Said before the install instead of a DaemonSet's ImagePullBackOff
 * minutes later; empty when every needed image is there.
 */
export function missingInstallImages(docs: readonly Manifest[], skipped: readonly { image: string; reason: string }[]): string[] {
  const needed = manifestImages(docs);
  return skipped.filter((s) => needed.has(s.image)).map((s) => `${s.image}: ${s.reason}`);
}

/** The CRDs first (they must be Established before objects of their kinds), then the rest. */
export function splitCrds(docs: readonly Manifest[]): { crds: Manifest[]; rest: Manifest[] } {
  return { crds: docs.filter((d) => d.kind === 'CustomResourceDefinition'), rest: docs.filter((d) => d.kind !== 'CustomResourceDefinition') };
}
