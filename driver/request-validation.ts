/**
 * Validation of CSI node requests, with upstream's INVALID_ARGUMENT messages.
 */
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import type { NodeUnpublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodeUnpublishVolumeRequest.js';
import type { NodeStageVolumeRequest__Output } from '../proto/gen/csi/v1/NodeStageVolumeRequest.js';
import type { NodeUnstageVolumeRequest__Output } from '../proto/gen/csi/v1/NodeUnstageVolumeRequest.js';
import { posix } from 'node:path';
import { invalidArgument } from './csi-error.js';

/**
 * A target path is absolute and clean (no `.`, `..`, `//` or trailing `/`), as the kubelet
 * sends it: the driver compares it with /proc/self/mountinfo and with its records, which
 * hold clean absolute paths, and never resolves it against its own working directory.
 */
export function validateTargetPath(path: string): void {
  if (!path.startsWith('/') || posix.normalize(path) !== path || (path !== '/' && path.endsWith('/')) || path.includes('\0')) {
    throw invalidArgument(`target path ${JSON.stringify(path)} is not an absolute, clean path: the kubelet sends /var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount`);
  }
}

export function validatePublishRequest(req: NodePublishVolumeRequest__Output): void {
  if (!req.volume_capability) throw invalidArgument('volume capability missing in request');
  if (req.volume_id === '') throw invalidArgument('volume ID missing in request');
  if (req.target_path === '') throw invalidArgument('target path missing in request');
  validateTargetPath(req.target_path);
  if (Object.keys(req.volume_context).length === 0) throw invalidArgument('volume attributes missing in request');
  if (req.volume_capability.block) {
    throw invalidArgument('block access type is not supported: secrets-store volumes are mounted as a filesystem');
  }
  if (!req.readonly) throw invalidArgument('readonly is not true in request: secrets-store volumes must be mounted read-only (readOnly: true)');
}

export function validateUnpublishRequest(req: NodeUnpublishVolumeRequest__Output): void {
  if (req.volume_id === '') throw invalidArgument('volume ID missing in request');
  if (req.target_path === '') throw invalidArgument('target path missing in request');
  validateTargetPath(req.target_path);
}

export function validateStageRequest(req: NodeStageVolumeRequest__Output): void {
  if (req.volume_id === '') throw invalidArgument('volume ID missing in request');
  if (req.staging_target_path === '') throw invalidArgument('staging target path missing in request');
  if (!req.volume_capability) throw invalidArgument('volume capability missing in request');
}

export function validateUnstageRequest(req: NodeUnstageVolumeRequest__Output): void {
  if (req.volume_id === '') throw invalidArgument('volume ID missing in request');
  if (req.staging_target_path === '') throw invalidArgument('staging target path missing in request');
}
