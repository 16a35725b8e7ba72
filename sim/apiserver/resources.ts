/**
 * The resource kinds the simulated API server serves. An object is stored once and served
 * under every version its group lists, with `apiVersion` rewritten to the one asked for.
 * `subresources` lists what may follow the object's name in a URL (`pods/NAME/status`);
 * `fieldSelectors` are the fields a list or watch may select on, beyond metadata.name and
 * metadata.namespace.
 */
export interface ResourceKind {
  group: string; // '' for core
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** With a status subresource, writes to the object ignore `status` and `/status` writes only it. */
  statusSubresource: boolean;
  fieldSelectors: string[];
  /** The verbs served when not all of them (the review kinds are create only). */
  verbs?: string[];
}

/** A review kind (access-review.ts): created to be answered, never stored. */
const review = (group: string, plural: string, kind: string, namespaced = false): ResourceKind => ({
  group, versions: ['v1'], plural, singular: kind.toLowerCase(), kind, namespaced, statusSubresource: false, fieldSelectors: [], verbs: ['create'],
});

const core = (plural: string, kind: string, namespaced: boolean, extra: Partial<ResourceKind> = {}): ResourceKind => ({
  group: '',
  versions: ['v1'],
  plural,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  statusSubresource: false,
  fieldSelectors: [],
  ...extra,
});

export const resourceKinds: ResourceKind[] = [
  core('pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], statusSubresource: true, fieldSelectors: ['spec.nodeName', 'status.phase', 'spec.serviceAccountName'] }),
  core('secrets', 'Secret', true, { fieldSelectors: ['type'] }),
  core('configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  core('events', 'Event', true, {
    shortNames: ['ev'],
    fieldSelectors: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type', 'source'],
  }),
  core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  core('namespaces', 'Namespace', false, { shortNames: ['ns'], statusSubresource: true, fieldSelectors: ['status.phase'] }),
  core('nodes', 'Node', false, { shortNames: ['no'], statusSubresource: true }),
  {
    group: 'apps', versions: ['v1'], plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true,
    shortNames: ['deploy'], categories: ['all'], statusSubresource: true, fieldSelectors: [],
  },
  {
    // Served (stored, listed, watched, patched) so kind/manifests apply here as on a cluster;
    // the simulated cluster runs no DaemonSet controller: its drivers are its own processes.
    group: 'apps', versions: ['v1'], plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true,
    shortNames: ['ds'], categories: ['all'], statusSubresource: true, fieldSelectors: [],
  },
  {
    group: 'apps', versions: ['v1'], plural: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true,
    shortNames: ['rs'], categories: ['all'], statusSubresource: true, fieldSelectors: [],
  },
  {
    group: 'storage.k8s.io', versions: ['v1'], plural: 'csidrivers', singular: 'csidriver', kind: 'CSIDriver', namespaced: false,
    statusSubresource: false, fieldSelectors: [],
  },
  {
    group: 'apiextensions.k8s.io', versions: ['v1'], plural: 'customresourcedefinitions', singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], statusSubresource: true, fieldSelectors: [],
  },
  {
    group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false,
    statusSubresource: false, fieldSelectors: [],
  },
  {
    group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding',
    namespaced: false, statusSubresource: false, fieldSelectors: [],
  },
  {
    group: 'secrets-store.csi.x-k8s.io', versions: ['v1', 'v1alpha1'], plural: 'secretproviderclasses', singular: 'secretproviderclass',
    kind: 'SecretProviderClass', namespaced: true, statusSubresource: false, fieldSelectors: [],
  },
  {
    group: 'secrets-store.csi.x-k8s.io', versions: ['v1', 'v1alpha1'], plural: 'secretproviderclasspodstatuses', singular: 'secretproviderclasspodstatus',
    kind: 'SecretProviderClassPodStatus', namespaced: true, statusSubresource: false, fieldSelectors: [],
  },
  review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
  review('authorization.k8s.io', 'subjectaccessreviews', 'SubjectAccessReview'),
  review('authorization.k8s.io', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
  review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview'),
  review('authentication.k8s.io', 'tokenreviews', 'TokenReview'),
];

export function findResource(group: string, version: string, plural: string): ResourceKind | undefined {
  return resourceKinds.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
}

export function resourceByPlural(plural: string): ResourceKind {
  const r = resourceKinds.find((k) => k.plural === plural);
  if (!r) throw new Error(`unknown resource ${plural}`);
  return r;
}

export function resourceByKind(apiVersion: string, kind: string): ResourceKind | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return resourceKinds.find((r) => r.group === group && r.kind === kind && r.versions.includes(version!));
}

/** `pods`, or `secretproviderclasses.secrets-store.csi.x-k8s.io` as Kubernetes messages say. */
export function qualifiedName(r: ResourceKind): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

export function apiVersionOf(r: ResourceKind, version: string): string {
  return r.group === '' ? version : `${r.group}/${version}`;
}

/** The fields every list and watch of `r` may select on. */
export function selectableFields(r: ResourceKind): string[] {
  return ['metadata.name', ...(r.namespaced ? ['metadata.namespace'] : []), ...r.fieldSelectors];
}
