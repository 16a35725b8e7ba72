/**
 * The API objects the driver reads and writes (group secrets-store.csi.x-k8s.io, v1), as
 * upstream's CRDs define them. Only the fields the driver uses are typed.
 */
export const secretsStoreGroup = 'secrets-store.csi.x-k8s.io';
export const secretsStoreVersion = 'v1';
export const nodeNameLabel = 'internal.secrets-store.csi.k8s.io/node-name';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface SecretObjectData {
  objectName: string;
  key: string;
}

export interface SecretObject {
  secretName: string;
  type: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  data?: SecretObjectData[];
}

export interface SecretProviderClass {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    provider?: string;
    parameters?: Record<string, string>;
    secretObjects?: SecretObject[];
  };
}

export interface SecretProviderClassObject {
  id: string;
  version: string;
}

export interface SecretProviderClassPodStatus {
  apiVersion: string;
  kind: 'SecretProviderClassPodStatus';
  metadata: ObjectMeta;
  status: {
    podName: string;
    secretProviderClassName: string;
    targetPath: string;
    mounted: boolean;
    objects: SecretProviderClassObject[];
  };
}

export interface PodRef {
  name: string;
  namespace: string;
  uid: string;
}

/** Upstream's SPCPS name: `<pod>-<namespace>-<spc>`. */
export function podStatusName(pod: string, namespace: string, spc: string): string {
  return `${pod}-${namespace}-${spc}`;
}

/** The SecretProviderClassPodStatus a successful mount records (objects sorted by id). */
export function buildPodStatus(args: {
  pod: PodRef;
  spcName: string;
  nodeId: string;
  targetPath: string;
  objects: readonly SecretProviderClassObject[];
}): SecretProviderClassPodStatus {
  const { pod, spcName, nodeId, targetPath } = args;
  return {
    apiVersion: `${secretsStoreGroup}/${secretsStoreVersion}`,
    kind: 'SecretProviderClassPodStatus',
    metadata: {
      name: podStatusName(pod.name, pod.namespace, spcName),
      namespace: pod.namespace,
      labels: { [nodeNameLabel]: nodeId },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid }],
    },
    status: {
      podName: pod.name,
      secretProviderClassName: spcName,
      targetPath,
      mounted: true,
      objects: [...args.objects].map((o) => ({ id: o.id, version: o.version })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    },
  };
}
