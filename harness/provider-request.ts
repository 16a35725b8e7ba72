/**
 * The volume context the kubelet passes for a pod volume, for the harness's kubelet-side
 * requests (tests, benchmarks, the simulated kubelet). The conformance kits state it
 * themselves (conformance/contract/kubelet.ts) rather than take it from the driver.
 */
import { volumeContextKeys } from '../driver/volume-publisher.js';

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
