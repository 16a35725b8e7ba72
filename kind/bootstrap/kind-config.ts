/**
 * The kind cluster the bootstrapper creates: one control plane and one worker, so the
 * driver DaemonSet runs on a node that is not the control plane too (pods of the scenarios
 * land on the worker). kind's own config format, as YAML; and whether kind has a cluster.
 */
import { stringify } from 'yaml';

interface KindConfigOptions {
  /** kindest/node image (`--image`); kind's default when absent. */
  nodeImage?: string;
}

export function kindConfig(options: KindConfigOptions = {}): string {
  const node = (role: 'control-plane' | 'worker') => ({ role, ...(options.nodeImage ? { image: options.nodeImage } : {}) });
  return stringify({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    nodes: [node('control-plane'), node('worker')],
  });
}

/** Whether kind has a cluster of that name: `kind get clusters` through `run`, which returns its stdout or throws. */
export async function kindClusterExists(name: string, run: (command: string, args: string[]) => Promise<string>): Promise<boolean> {
  return (await run('kind', ['get', 'clusters'])).split('\n').some((l) => l.trim() === name);
}
