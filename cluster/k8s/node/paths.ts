/**
 * Where a node keeps everything, derived from the cluster's state directory alone, so that
 * `stopNode(stateDir)` in another process (`sscsi k8s down`) finds exactly what `startNode`
 * made. Everything is under `<stateDir>/node` except the kubelet's root directory, which
 * stays `/var/lib/kubelet` by default because the driver DaemonSet's hostPaths name it.
 */
import { join } from 'node:path';

export const defaultKubeletRootDir = '/var/lib/kubelet';

export interface NodePaths {
  dir: string;
  /** The record startNode writes (pids, node name, kubelet root): node-record.ts. */
  record: string;
  logs: { containerd: string; kubelet: string };
  containerd: {
    config: string;
    root: string;
    state: string;
    socket: string;
    /** runc's state root for our shims: apart from any other containerd's runc root. */
    runcRoot: string;
    /** containerd's `opt` plugin directory (default /opt/containerd): ours, empty. */
    opt: string;
    /** Registry host configs (`hosts.toml` per registry): registry mirrors. */
    certsDir: string;
  };
  cni: { confDir: string; ipamDir: string };
  images: string;
  kubelet: { config: string; staticPods: string; podLogs: string; rootDir: string };
}

export function nodePaths(stateDir: string, kubeletRootDir = defaultKubeletRootDir): NodePaths {
  const dir = join(stateDir, 'node');
  const c = join(dir, 'containerd');
  return {
    dir,
    record: join(dir, 'node.json'),
    logs: { containerd: join(dir, 'containerd.log'), kubelet: join(dir, 'kubelet.log') },
    containerd: {
      config: join(c, 'config.toml'),
      root: join(c, 'root'),
      state: join(c, 'state'),
      socket: join(c, 'containerd.sock'),
      runcRoot: join(c, 'runc'),
      opt: join(c, 'opt'),
      certsDir: join(c, 'certs.d'),
    },
    cni: { confDir: join(dir, 'cni', 'net.d'), ipamDir: join(dir, 'cni', 'ipam') },
    images: join(dir, 'images'),
    kubelet: { config: join(dir, 'kubelet', 'config.yaml'), staticPods: join(dir, 'kubelet', 'manifests'), podLogs: join(dir, 'kubelet', 'pod-logs'), rootDir: kubeletRootDir },
  };
}
