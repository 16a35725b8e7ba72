/**
 * The resource kinds the simulated API server serves. An object is stored once and served
 * under every version its group lists, with `apiVersion` rewritten to the one asked for.
 */
export interface ResourceKind {
  group: string; // '' for core
  versions: string[];
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const resourceKinds: ResourceKind[] = [
  { group: '', versions: ['v1'], plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', versions: ['v1'], plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', versions: ['v1'], plural: 'events', kind: 'Event', namespaced: true },
  { group: '', versions: ['v1'], plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: '', versions: ['v1'], plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: 'storage.k8s.io', versions: ['v1'], plural: 'csidrivers', kind: 'CSIDriver', namespaced: false },
  { group: 'secrets-store.csi.x-k8s.io', versions: ['v1', 'v1alpha1'], plural: 'secretproviderclasses', kind: 'SecretProviderClass', namespaced: true },
  { group: 'secrets-store.csi.x-k8s.io', versions: ['v1', 'v1alpha1'], plural: 'secretproviderclasspodstatuses', kind: 'SecretProviderClassPodStatus', namespaced: true },
];

export function findResource(group: string, version: string, plural: string): ResourceKind | undefined {
  return resourceKinds.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
}

export function resourceByPlural(plural: string): ResourceKind {
  const r = resourceKinds.find((k) => k.plural === plural);
  if (!r) throw new Error(`unknown resource ${plural}`);
  return r;
}

/** `pods`, or `secretproviderclasses.secrets-store.csi.x-k8s.io` as Kubernetes messages say. */
export function qualifiedName(r: ResourceKind): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

export function apiVersionOf(r: ResourceKind, version: string): string {
  return r.group === '' ? version : `${r.group}/${version}`;
}
