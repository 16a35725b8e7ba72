/**
 * The outside programs `npm run peers` builds (peers/build.ts) into `.peers/bin/<name>` —
 * upstream's driver, csi-sanity, and the k8s target's etcd and Kubernetes components: where
 * one is, or why it is not there, as `.peers/status.json` records it. Tests, the CLI and the
 * benchmarks ask here so a missing peer is reported with its reason, never silently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../driver/version.js';

export type PeerName =
  | 'secrets-store-csi-driver'
  | 'csi-sanity'
  | 'etcd'
  | 'etcdctl'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kubectl';

export type PeerLookup = { path: string; version: string; missing?: undefined } | { missing: string; path?: undefined };

interface StatusEntry {
  name: string;
  built: boolean;
  version?: string;
  reason?: string;
}

/** Where peer `name` is, or why it is missing (a reason to print in a skip or an error). */
export function peer(name: PeerName, root = packageRoot()): PeerLookup {
  const path = join(root, '.peers', 'bin', name);
  let entries: StatusEntry[] = [];
  try {
    entries = (JSON.parse(readFileSync(join(root, '.peers', 'status.json'), 'utf8')) as { peers: StatusEntry[] }).peers;
  } catch {
    return { missing: `peer ${name} not built: run \`npm run peers\` (no .peers/status.json yet)` };
  }
  const entry = entries.find((e) => e.name === name);
  if (!entry) return { missing: `peer ${name} not built: \`npm run peers\` does not know it` };
  if (!entry.built) return { missing: `peer ${name} not built: ${entry.reason ?? 'unknown reason'}` };
  if (!existsSync(path)) return { missing: `peer ${name} not found at ${path}: run \`npm run peers\`` };
  return { path, version: entry.version ?? 'unknown' };
}
