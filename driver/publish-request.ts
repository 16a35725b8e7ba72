/**
 * What a NodePublishVolume asks for, validated and shaped without I/O: the volume context
 * keys the kubelet sets, who the volume is for (`publishTarget`), the fsGroup, the
 * SecretProviderClass's provider and parameters, and what the provider is sent.
 */
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { CsiError, Status, invalidArgument } from './csi-error.js';
import { dnsLabelRule, dnsSubdomainRule, isDnsLabel, isDnsSubdomain } from './k8s/names.js';
import type { PodRef, SecretProviderClass } from './k8s/types.js';

/** Volume context keys the kubelet sets (podInfoOnMount, ephemeral, tokenRequests). */
export const volumeContextKeys = {
  secretProviderClass: 'secretProviderClass',
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccountName: 'csi.storage.k8s.io/serviceAccount.name',
  serviceAccountTokens: 'csi.storage.k8s.io/serviceAccount.tokens',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
} as const;

/** The default file mode (0644), sent to providers as the decimal JSON "420". */
export const defaultFilePermission = 0o644;

export interface PublishTarget {
  targetPath: string;
  spcName: string;
  pod: PodRef;
  /** The pod's fsGroup (volume_mount_group), if any. */
  gid: number | undefined;
}

/**
 * The validated what-and-for-whom of a NodePublishVolume (pure; throws INVALID_ARGUMENT):
 * the SecretProviderClass name, the pod's name, namespace and uid, and the fsGroup. Names
 * must be valid Kubernetes names before they go into an API path.
 */
export function publishTarget(req: NodePublishVolumeRequest__Output): PublishTarget {
  const ctx = req.volume_context;
  const spcName = ctx[volumeContextKeys.secretProviderClass] ?? '';
  if (spcName === '') {
    throw invalidArgument('secretProviderClass is not set in the volume attributes: add volumeAttributes.secretProviderClass to the pod\'s csi volume');
  }
  const pod = {
    name: ctx[volumeContextKeys.podName] ?? '',
    namespace: ctx[volumeContextKeys.podNamespace] ?? '',
    uid: ctx[volumeContextKeys.podUid] ?? '',
  };
  for (const [key, value] of [[volumeContextKeys.podName, pod.name], [volumeContextKeys.podNamespace, pod.namespace], [volumeContextKeys.podUid, pod.uid]] as const) {
    if (value === '') {
      throw invalidArgument(`${key} missing in the volume context: the CSIDriver object must set podInfoOnMount: true`);
    }
  }
  // These become parts of API paths: only names the API server itself would accept.
  if (!isDnsSubdomain(spcName)) {
    throw invalidArgument(`secretProviderClass ${JSON.stringify(spcName)} is not a valid SecretProviderClass name: it must be ${dnsSubdomainRule}`);
  }
  if (!isDnsLabel(pod.namespace)) {
    throw invalidArgument(`${volumeContextKeys.podNamespace} ${JSON.stringify(pod.namespace)} is not a valid namespace: it must be ${dnsLabelRule}`);
  }
  if (!isDnsSubdomain(pod.name)) {
    throw invalidArgument(`${volumeContextKeys.podName} ${JSON.stringify(pod.name)} is not a valid pod name: it must be ${dnsSubdomainRule}`);
  }
  return { targetPath: req.target_path, spcName, pod, gid: volumeMountGroup(req) };
}


/** The pod's fsGroup as the kubelet passes it (CSI volume_mount_group), if any. */
export function volumeMountGroup(req: NodePublishVolumeRequest__Output): number | undefined {
  const group = req.volume_capability?.mount?.volume_mount_group ?? '';
  if (group === '') return undefined;
  if (!/^\d{1,10}$/.test(group) || Number(group) > 0xffffffff) {
    throw invalidArgument(`volume_mount_group ${JSON.stringify(group)} is not a numeric group id; the kubelet passes the pod's fsGroup`);
  }
  return Number(group);
}

/** The SPC's provider and parameters, or the FAILED_PRECONDITION saying which is missing. */
export function providerOf(spc: SecretProviderClass, namespace: string, name: string): { provider: string; parameters: Record<string, string> } {
  const provider = spc.spec.provider ?? '';
  if (provider === '') {
    throw new CsiError(Status.FAILED_PRECONDITION, `SecretProviderClass ${namespace}/${name} has no spec.provider: set it to the provider's name`, 'FailedToMount');
  }
  const parameters = spc.spec.parameters;
  if (!parameters || Object.keys(parameters).length === 0) {
    throw new CsiError(Status.FAILED_PRECONDITION, `SecretProviderClass ${namespace}/${name} has no spec.parameters: the provider needs them to know what to mount`, 'FailedToMount');
  }
  return { provider, parameters };
}

/**
 * The provider's `attributes`: the SPC parameters, then every volume context key (so pod
 * identity cannot be spoofed through parameters), and the service-account tokens taken
 * from the request's secrets first (Kubernetes 1.35 serviceAccountTokenInSecrets), then the
 * volume context. The provider's `secrets` are the nodePublishSecretRef data alone.
 */
export function providerAttributes(
  parameters: Record<string, string>,
  volumeContext: Record<string, string>,
  requestSecrets: Record<string, string>,
): { attributes: Record<string, string>; secrets: Record<string, string> } {
  const attributes: Record<string, string> = { ...parameters, ...volumeContext };
  const secrets = { ...requestSecrets };
  const tokensKey = volumeContextKeys.serviceAccountTokens;
  const tokens = secrets[tokensKey] ?? volumeContext[tokensKey];
  delete secrets[tokensKey];
  if (tokens !== undefined) attributes[tokensKey] = tokens;
  return { attributes, secrets };
}
