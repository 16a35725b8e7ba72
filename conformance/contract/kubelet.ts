/**
 * What the kubelet sends a secrets-store driver for an inline CSI volume, as the checks
 * state it (from the CSI spec, Kubernetes' CSI volume plugin with `podInfoOnMount: true`,
 * and the keys upstream's nodeserver.go reads): the volume context keys, the target path
 * layout, and a NodePublishVolume request shaped as the kubelet shapes it. Nothing here
 * comes from the driver under test.
 */
import type { NodePublishVolumeRequest } from '../../proto/gen/csi/v1/NodePublishVolumeRequest.js';

/** The keys of `volume_context`: the pod volume's `volumeAttributes` plus what podInfoOnMount adds. */
export const volumeContextKeys = {
  /** volumeAttributes.secretProviderClass: the SecretProviderClass, in the pod's namespace. */
  secretProviderClass: 'secretProviderClass',
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccountName: 'csi.storage.k8s.io/serviceAccount.name',
  /** JSON {audience: {token, expirationTimestamp}} when the CSIDriver has tokenRequests. */
  serviceAccountTokens: 'csi.storage.k8s.io/serviceAccount.tokens',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
} as const;

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount?: string | undefined;
}

/** The volume context of an inline secrets-store volume naming `spc`. */
export function kubeletVolumeContext(spc: string, pod: PodIdentity): Record<string, string> {
  return {
    [volumeContextKeys.secretProviderClass]: spc,
    [volumeContextKeys.podName]: pod.name,
    [volumeContextKeys.podNamespace]: pod.namespace,
    [volumeContextKeys.podUid]: pod.uid,
    [volumeContextKeys.serviceAccountName]: pod.serviceAccount ?? 'default',
    [volumeContextKeys.ephemeral]: 'true',
  };
}

/** `<kubelet root>/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount`: the kubelet makes the parents, the driver the target. */
export const kubeletTargetPath = (kubeletRoot: string, podUid: string, volume: string) => `${kubeletRoot}/pods/${podUid}/volumes/kubernetes.io~csi/${volume}/mount`;

/**
 * NodePublishVolume for an inline volume: readonly (the CSIDriver's volumes are read-only),
 * a mount access type, the nodePublishSecretRef data as `secrets`, and — to a driver
 * advertising VOLUME_MOUNT_GROUP, whatever the CSIDriver's fsGroupPolicy (Kubernetes v1.34
 * csi_mounter SetUpAt) — the pod's fsGroup as volume_mount_group.
 */
export function kubeletPublishRequest(args: {
  targetPath: string;
  spc: string;
  pod: PodIdentity;
  volumeId?: string;
  secrets?: Record<string, string>;
  volumeContext?: Record<string, string>;
  volumeMountGroup?: string;
}): NodePublishVolumeRequest {
  return {
    volume_id: args.volumeId ?? `csi-${args.pod.uid}-secrets`,
    target_path: args.targetPath,
    readonly: true,
    volume_capability: { mount: { fs_type: '', mount_flags: [], ...(args.volumeMountGroup !== undefined ? { volume_mount_group: args.volumeMountGroup } : {}) }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
    secrets: args.secrets ?? {},
    volume_context: { ...kubeletVolumeContext(args.spc, args.pod), ...args.volumeContext },
  };
}
