/**
 * What a node needs on this machine, each missing piece named with where it comes from, so
 * tests skip and `sscsi k8s up` fails with one readable line instead of a crash midway.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { busyboxBinary, findGo } from './node-images.js';
import { cniBinDir, containerdBinary } from './containerd.js';

export async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) if (await executable(`${dir}/${name}`)) return true;
  return false;
}

/** Missing prerequisites, as readable reasons (empty when the node can start). */
export async function missingPrerequisites(kubeletBin: string): Promise<string[]> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not root (containerd, the kubelet and pod mounts need root)');
  if (!(await executable(kubeletBin))) missing.push(`no kubelet at ${kubeletBin} (npm run peers builds it)`);
  if (!(await executable(containerdBinary))) missing.push(`no ${containerdBinary} (Debian package containerd)`);
  for (const tool of ['runc', 'ctr', 'containerd-shim-runc-v2', 'tar', 'mount', 'umount']) if (!(await onPath(tool))) missing.push(`no ${tool} on PATH`);
  for (const plugin of ['ptp', 'host-local', 'loopback']) if (!(await executable(`${cniBinDir}/${plugin}`))) missing.push(`no CNI plugin ${cniBinDir}/${plugin} (Debian package containernetworking-plugins)`);
  if (!(await executable(busyboxBinary))) missing.push(`no ${busyboxBinary} (Debian package busybox-static)`);
  if (!(await findGo())) missing.push('no Go toolchain (the pause image is built from cluster/k8s/node/pause)');
  return missing;
}
