/**
 * Validation of CSI node requests, with upstream's INVALID_ARGUMENT messages, and the
 * Kubernetes names a publish request carries checked before any mount, provider call or
 * API request (DESIGN §7).
 */
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import type { NodeUnpublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodeUnpublishVolumeRequest.js';
import type { NodeStageVolumeRequest__Output } from '../proto/gen/csi/v1/NodeStageVolumeRequest.js';
import type { NodeUnstageVolumeRequest__Output } from '../proto/gen/csi/v1/NodeUnstageVolumeRequest.js';
import { posix } from 'node:path';
import { invalidArgument } from './csi-error.js';
import { podStatusName } from './k8s/types.js';
import { dnsLabelRule, dnsSubdomainRule } from './k8s/names.js';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const nameRules = [
  { key: 'secretProviderClass', what: `a valid SecretProviderClass name: it must be ${dnsSubdomainRule}`, rule: dns1123Subdomain, max: 253 },
  { key: 'csi.storage.k8s.io/pod.name', what: `a valid pod name: it must be ${dnsSubdomainRule}`, rule: dns1123Subdomain, max: 253 },
  { key: 'csi.storage.k8s.io/pod.namespace', what: `a valid namespace: it must be ${dnsLabelRule}`, rule: dns1123Label, max: 63 },
] as const;

const shown = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);

/**
 * The names in the volume context that Kubernetes names objects by: each one present must
 * be one the API could hold (a missing one is the publisher's to report), and the pod
 * status named after them (`<pod>-<namespace>-<spc>`) must fit in 253 characters — else
 * the mount would be made and the provider called for a publish the API then refuses.
 * The kubelet always sends valid pod and namespace names; a bad SPC name could never
 * match an object.
 */
function validateNames(ctx: Record<string, string>): void {
  for (const { key, what, rule, max } of nameRules) {
    const v = ctx[key];
    if (v !== undefined && v !== '' && (v.length > max || !rule.test(v))) throw invalidArgument(`${key} ${shown(v)} is not ${what}`);
  }
  const [spc, pod, namespace] = nameRules.map((r) => ctx[r.key] ?? '');
  if (spc && pod && namespace) {
    const name = podStatusName(pod, namespace, spc);
    if (name.length > 253) {
      throw invalidArgument(`the SecretProviderClassPodStatus of this volume would be named ${shown(name)}, ${name.length} characters, more than the 253 Kubernetes allows: shorten the pod or the SecretProviderClass name`);
    }
  }
}

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
  validateNames(req.volume_context);
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
