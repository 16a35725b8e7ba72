/**
 * This project's extensions the driver kit checks, beyond upstream v1.6 (README "Rotation
 * and refresh", "File ownership"). Each is stated here with the reason a driver may lack it
 * and still conform; the checks carry that reason as `beyondUpstream`.
 */

/** Pod annotation: setting or changing it asks the driver on the pod's node to refetch the pod's volumes now. */
export const refreshAnnotation = 'secrets-store.csi.k8s.io/refresh-requested-at';

/** The CSI node capability a driver advertises to receive the pod's fsGroup as volume_mount_group. */
export const volumeMountGroupCapability = 'VOLUME_MOUNT_GROUP';

export const beyondUpstream = {
  currentObjectVersion: 'upstream v1.6 never fills MountRequest.current_object_version (its nodeserver passes nil), so providers cannot skip unchanged objects',
  rotationBackoff: 'upstream v1.6 retries a failed rotation at every republish once the interval has passed; it has no backoff',
  refreshAnnotation: `upstream v1.6 has no on-demand refresh: it does not watch pods for the ${refreshAnnotation} annotation`,
  modeUnset: 'upstream v1.6 writes a file whose reply mode is 0 (proto3 "not set", as its own e2e provider sends) with mode 000, readable by root alone; this project applies the permission of the request',
  fsGroup: 'upstream v1.6 does not advertise VOLUME_MOUNT_GROUP and ignores volume_mount_group: files stay root-owned',
} as const;
