/**
 * One kubelet root dir, one node: the driver DaemonSet's hostPaths name /var/lib/kubelet, so
 * two k8s clusters on one machine would share it (and the kubelet's port), and stopping one
 * would unmount the other's volumes. Before starting, this finds a kubelet still running
 * with that root dir, to refuse with its pid and command line.
 */
import { processesMentioning } from './down.js';

export async function kubeletUsingRootDir(rootDir: string): Promise<{ pid: number; cmdline: string } | undefined> {
  const found = await processesMentioning(`--root-dir=${rootDir}`);
  return found.find((p) => /(^|\/)kubelet /.test(p.cmdline));
}
