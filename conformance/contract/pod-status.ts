/**
 * The SecretProviderClassPodStatus a driver records for each mounted volume, as the checks
 * state it (DESIGN §3; upstream's nodeserver.go `createOrUpdateSecretProviderClassPodStatus`
 * and its controllers): `secrets-store.csi.x-k8s.io/v1`, named `<pod>-<namespace>-<spc>`,
 * labelled with the node, owned by the pod, with the mount in its status. Nothing here
 * comes from the driver under test.
 */
export const podStatusResource = 'secretproviderclasspodstatuses';
export const podStatusApiVersion = 'secrets-store.csi.x-k8s.io/v1';

/** The label naming the node whose driver mounted the volume (its sync controller selects on it). */
export const nodeNameLabel = 'internal.secrets-store.csi.k8s.io/node-name';

export const podStatusName = (pod: string, namespace: string, spc: string) => `${pod}-${namespace}-${spc}`;

/** The one ownerReference: the pod. */
export const podOwner = (pod: { name: string; uid: string }) => ({ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid });

/** `status`: the mount, with the objects' ids and versions sorted by id. */
export function expectedPodStatus(args: { pod: string; spc: string; targetPath: string; objects: Array<{ id: string; version: string }> }) {
  return {
    podName: args.pod,
    secretProviderClassName: args.spc,
    targetPath: args.targetPath,
    mounted: true,
    objects: [...args.objects].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}
