/**
 * The provider side of the wire as the checks state it (DESIGN §2.1; upstream's
 * nodeserver.go and provider_client.go, `v1alpha1` provider.proto): what a driver puts in a
 * Mount request, and the rules a reply's files must meet before a driver may write them
 * (upstream's fileutil `Validate`/`validatePath` and the Kubernetes atomic writer). The
 * provider kit sends requests built here; the driver kit compares what its provider
 * received with them. Nothing here comes from the driver under test.
 */
import { posix } from 'node:path';
import type { MountRequest } from '../../proto/gen/v1alpha1/MountRequest.js';
import { volumeContextKeys } from './kubelet.js';

/** The file permission a driver sends (0644), as the JSON of the decimal number: "420". */
export const defaultFilePermission = 0o644;
export const permissionWire = (mode: number) => JSON.stringify(mode);

/**
 * A Mount request's `attributes`: the SecretProviderClass's `spec.parameters`, overlaid by
 * every volume-context key (upstream copies the volume context over the parameters), plus
 * `csi.storage.k8s.io/serviceAccount.tokens` taken from the request's secrets first
 * (Kubernetes 1.35 serviceAccountTokenInSecrets), else from the volume context.
 */
export function mountAttributes(parameters: Record<string, string>, volumeContext: Record<string, string>, requestSecrets: Record<string, string> = {}): Record<string, string> {
  const attributes = { ...parameters, ...volumeContext };
  const key = volumeContextKeys.serviceAccountTokens;
  const tokens = requestSecrets[key] ?? volumeContext[key];
  if (tokens !== undefined) attributes[key] = tokens;
  return attributes;
}

/**
 * A Mount request as a driver sends it: attributes as a JSON object, the nodePublish
 * secrets as a JSON object (upstream sends `null` for an empty map, so a provider must take
 * both), the permission as a decimal JSON number, the target path, and the object versions
 * the volume holds (upstream v1.6 sends none).
 */
export function mountRequest(args: {
  parameters: Record<string, string>;
  volumeContext: Record<string, string>;
  targetPath: string;
  secrets?: Record<string, string>;
  permission?: number;
  current?: Array<{ id: string; version: string }>;
}): MountRequest {
  return {
    attributes: JSON.stringify(mountAttributes(args.parameters, args.volumeContext, args.secrets)),
    secrets: JSON.stringify(args.secrets ?? {}),
    target_path: args.targetPath,
    permission: permissionWire(args.permission ?? defaultFilePermission),
    current_object_version: args.current ?? [],
  };
}

/** Which rule a provider's file path breaks. */
export type PathRule = 'empty' | 'nul' | 'absolute' | 'dotdot' | 'dotdot-prefix' | 'unclean';

/**
 * The file path rules, in order: not empty; no NUL byte (no file system takes one);
 * relative; no `..` element; not starting with `..` (the atomic writer's own names, like
 * `..data`, start so); clean as Go's path.Clean leaves it (no `.`, `//` or trailing `/`).
 * A reply breaking one fails the whole mount. Returns the first rule broken, or undefined.
 */
export function pathRule(path: string): PathRule | undefined {
  if (path === '') return 'empty';
  if (path.includes('\0')) return 'nul';
  if (path.startsWith('/')) return 'absolute';
  if (path.split('/').includes('..')) return 'dotdot';
  if (path.startsWith('..')) return 'dotdot-prefix';
  if (posix.normalize(path) !== path || path.endsWith('/') || path === '.') return 'unclean';
  return undefined;
}

/** What path.Clean would make of a path, for "did you mean". */
export const cleanForm = (path: string) => posix.normalize(path).replace(/\/$/, '');

/** A file mode on the wire: permission bits 0..0o777; 0 is proto3's "not set". */
export const isValidMode = (mode: number) => Number.isInteger(mode) && mode >= 0 && mode <= 0o777;
