/**
 * Where the kubelet puts a pod's CSI volumes, as every cluster target reads them:
 *
 *   <kubelet root>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount
 *
 * (the kubelet's csi volume plugin: `kubernetes.io~csi` is the escaped plugin name, the
 * kubelet makes `<volume>/`, the driver makes and mounts `mount`). This is the harness's one
 * statement of the layout. Three others are deliberate: driver/mount/target-path.ts parses
 * it (the driver imports no harness code), conformance/contract/kubelet.ts states it as the
 * contract its checks hold a driver to, and sim/kubelet/kubelet.ts lays it out as the real
 * kubelet does (sim/ sits below cluster/; test/cluster/kubelet-layout.test.ts pins it to
 * this one).
 *
 * Paths are POSIX: a kind node's or a real node's paths are read through other programs.
 */
import { posix } from 'node:path';

/** The kubelet's root on a real node (its `--root-dir` default). */
export const defaultKubeletRoot = '/var/lib/kubelet';

/** The escaped name of the kubelet's CSI volume plugin: the directory of a pod's CSI volumes. */
export const csiPluginDir = 'kubernetes.io~csi';

/** `<root>/pods`: one directory per pod uid. */
export const podsDir = (kubeletRoot: string): string => posix.join(kubeletRoot, 'pods');

/** One path component the kubelet names (a pod uid, a volume name): nothing that walks. */
function component(what: string, value: string): string {
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\0')) {
    throw new VolumePathError(`${what} ${JSON.stringify(value)} is not a single path component`);
  }
  return value;
}

/** `<root>/pods/<uid>/volumes/kubernetes.io~csi/<volume>`: the kubelet makes it before NodePublishVolume. */
export const csiVolumeDir = (kubeletRoot: string, podUid: string, volume: string): string =>
  posix.join(podsDir(kubeletRoot), component('pod uid', podUid), 'volumes', csiPluginDir, component('volume name', volume));

/** The target path the kubelet sends in NodePublishVolume for a pod's CSI volume. */
export const targetPath = (kubeletRoot: string, podUid: string, volume: string): string => posix.join(csiVolumeDir(kubeletRoot, podUid, volume), 'mount');

export class VolumePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumePathError';
  }
}

/**
 * The path of a file in a pod's volume, as its container sees it at `/<mountPath>/<path>`.
 * The traversal guard: a `path` that leaves the volume (`..`, absolute, the volume itself)
 * throws a VolumePathError instead of naming a file elsewhere on the node.
 */
export function volumeFilePath(kubeletRoot: string, podUid: string, volume: string, path: string): string {
  const base = targetPath(kubeletRoot, podUid, volume);
  const full = posix.resolve(base, path);
  if (!full.startsWith(`${base}/`)) throw new VolumePathError(`path ${path} leaves the volume`);
  return full;
}

/** Whether a mount point is a CSI volume's target under the pods directory of `kubeletRoot`. */
export function isCsiVolumeMount(mountPoint: string, kubeletRoot: string): boolean {
  return mountPoint.startsWith(`${podsDir(kubeletRoot)}/`) && mountPoint.includes(`/volumes/${csiPluginDir}/`);
}
