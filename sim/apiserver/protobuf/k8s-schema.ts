/**
 * Kubernetes' protobuf messages for the kinds the simulated API server encodes, read from
 * the trimmed .proto files in proto/k8s (upstream package names and field numbers; see
 * proto/k8s/trim-upstream.ts). Parsed on first use, so a server that only ever speaks JSON
 * (the driver's requests) never pays for it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { packageRoot } from '../../../driver/version.js';

/** The protobuf package of each group/version the schemas cover. */
const packages: Record<string, string> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'autoscaling/v1': 'k8s.io.api.autoscaling.v1',
};
export const metaPackage = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** meta/v1 kinds that travel under any group's version (client-go sends DeleteOptions as "v1"). */
const metaKinds = new Set(['Status', 'DeleteOptions', 'WatchEvent']);

let root: protobuf.Root | undefined;

export function k8sRoot(): protobuf.Root {
  if (!root) {
    const dir = join(packageRoot(), 'proto', 'k8s');
    const files = readdirSync(dir).filter((f) => f.endsWith('.proto')).map((f) => join(dir, f));
    root = new protobuf.Root().loadSync(files, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

/** The message of `kind` in `apiVersion`, or undefined when the sim has no schema for it (CRDs, and built-ins listed in the README). */
export function messageType(apiVersion: string, kind: string): protobuf.Type | undefined {
  const pkg = metaKinds.has(kind) ? metaPackage : packages[apiVersion];
  if (!pkg) return undefined;
  const found = k8sRoot().lookup(`${pkg}.${kind}`);
  return found instanceof protobuf.Type ? found : undefined;
}

/** Whether objects of this group/version/kind can be sent and answered as protobuf. */
export function hasSchema(apiVersion: string, kind: string): boolean {
  return messageType(apiVersion, kind) !== undefined;
}
