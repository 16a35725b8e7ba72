/**
 * A fresh cluster's objects: namespaces `default`, `kube-system` and `kube-public`, the
 * default RBAC every API server creates (bootstrap-policy.yaml), and
 * the manifests the kind deployment ships that describe the driver to the cluster — the
 * CSIDriver object, both CRDs, and the driver's ServiceAccount and RBAC. They are read from
 * kind/manifests so the simulated cluster and a real one enforce the same files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../driver/version.js';
import type { KubeObject, ObjectStore } from './object-store.js';
import { resourceByKind } from './resources.js';

export const manifestsDir = () => join(packageRoot(), 'kind', 'manifests');

export const bootstrapManifests = [
  'csidriver.yaml',
  'secrets-store.csi.x-k8s.io_secretproviderclasses.yaml',
  'secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml',
  'rbac-secretproviderclass.yaml',
  'rbac-secretprovidersyncing.yaml',
];

/** The objects of a multi-document YAML text; throws naming the file on a parse error. */
export function parseManifests(text: string, where: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as KubeObject | null;
    if (obj) out.push(obj);
  }
  return out;
}

/** Creates `obj` through the store under the resource its apiVersion and kind name. */
export function createObject(store: ObjectStore, obj: KubeObject, where = 'object'): KubeObject {
  const r = resourceByKind(obj.apiVersion ?? '', obj.kind ?? '');
  if (!r) throw new Error(`${where}: the simulated API server does not serve ${obj.apiVersion} ${obj.kind}`);
  return store.create(r.plural, obj);
}

/** The default RBAC of every kube-apiserver (system:basic-user, system:discovery, ...). */
export const bootstrapPolicy = () => join(packageRoot(), 'sim', 'apiserver', 'bootstrap-policy.yaml');

export function bootstrapCluster(store: ObjectStore, dir = manifestsDir(), files = bootstrapManifests): void {
  for (const name of ['default', 'kube-system', 'kube-public']) {
    if (!store.get('namespaces', undefined, name)) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } });
  }
  for (const obj of parseManifests(readFileSync(bootstrapPolicy(), 'utf8'), bootstrapPolicy())) createObject(store, obj, bootstrapPolicy());
  for (const file of files) {
    const path = join(dir, file);
    for (const obj of parseManifests(readFileSync(path, 'utf8'), path)) createObject(store, obj, path);
  }
}
