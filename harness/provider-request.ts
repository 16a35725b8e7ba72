/**
 * What the driver sends for a pod volume, for the harness pieces that speak for it (the
 * conformance kits, the bring-your-own-provider probe, the kubelet's publish request): the
 * volume context the kubelet passes, and the provider Mount request the driver builds from
 * it with its own rules (driver/volume-publisher.ts).
 */
import { defaultFilePermission, providerAttributes, volumeContextKeys } from '../driver/volume-publisher.js';
import type { MountRequest } from '../proto/gen/v1alpha1/MountRequest.js';

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount?: string | undefined;
}

/** The volume context the kubelet sends for an inline secrets-store volume (podInfoOnMount). */
export function podVolumeContext(spcName: string, pod: PodIdentity): Record<string, string> {
  return {
    [volumeContextKeys.secretProviderClass]: spcName,
    [volumeContextKeys.podName]: pod.name,
    [volumeContextKeys.podNamespace]: pod.namespace,
    [volumeContextKeys.podUid]: pod.uid,
    [volumeContextKeys.serviceAccountName]: pod.serviceAccount ?? 'default',
    [volumeContextKeys.ephemeral]: 'true',
  };
}

/** The provider Mount request the driver sends for those parameters and that volume context. */
export function driverMountRequest(args: {
  parameters: Record<string, string>;
  volumeContext: Record<string, string>;
  targetPath: string;
  secrets?: Record<string, string>;
  permission?: number;
  current?: Array<{ id: string; version: string }>;
}): MountRequest {
  const { attributes, secrets } = providerAttributes(args.parameters, args.volumeContext, args.secrets ?? {});
  return {
    attributes: JSON.stringify(attributes),
    secrets: JSON.stringify(secrets),
    target_path: args.targetPath,
    permission: JSON.stringify(args.permission ?? defaultFilePermission),
    current_object_version: args.current ?? [],
  };
}
