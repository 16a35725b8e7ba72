/**
 * The Kubernetes component binaries, built by `npm run peers` into `.peers/bin/<name>`
 * (harness/peers.ts says where each is or why it is missing). A missing one is an error
 * naming it and the reason, so a test can skip with that message and `k8s up` can stop
 * with it.
 */
import { peer, type PeerLookup } from '../../../harness/peers.js';

export type ComponentBinary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet' | 'kubectl';

/** Where component `name` is, or why it is missing. */
export function componentBinary(name: ComponentBinary): PeerLookup {
  return peer(name);
}

/** The first missing binary among `names` (a skip or error message), or undefined when all are there. */
export function missingBinary(names: readonly ComponentBinary[]): string | undefined {
  for (const name of names) {
    const found = peer(name);
    if (found.missing !== undefined) return found.missing;
  }
  return undefined;
}

/** The path of component `name`; throws the reason it is missing. */
export function requireBinary(name: ComponentBinary): string {
  const found = peer(name);
  if (found.missing !== undefined) throw new Error(found.missing);
  return found.path;
}
