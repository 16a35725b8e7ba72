/**
 * Stopping a node so that nothing is left, whatever state it is in (running, half-started,
 * crashed). Each step works from the state dir alone and is safe to repeat:
 *  1. kill the kubelet (so it restarts nothing);
 *  2. kill and delete every container of the CRI namespace through containerd;
 *  3. stop containerd; SIGKILL shims still serving our socket; `runc delete --force` what
 *     runc still knows under our runc root; stop the registry mirror;
 *  4. unmount everything under the kubelet's root dir and the node's dir (pod volumes, the
 *     root dir's own rshared bind mount, rootfs overlays, shm, network namespaces — a pod's
 *     veth pair and host route vanish with its namespace);
 *  5. remove the pod cgroups, the CNI address leases, the runtime state and the kubelet's
 *     /var/log/containers links, and the kubelet root dir if this node made it;
 *  6. look again and report anything still there.
 * Logs (containerd.log, kubelet.log) and the built image tars are kept. The machine-wide
 * parts (mounts under the kubelet root dir, kubepods cgroups) are only touched when no other
 * node holds the machine's node lock (node-lock.ts), which is released last.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './command.js';
import { Ctr } from './ctr.js';
import { findProcesses, stopDaemon } from './daemon.js';
import { mountsUnder, unmountAllUnder } from './mounts.js';
import { nodeLockFile, releaseNodeLock } from './node-lock.js';
import { readNodeRecord } from './node-record.js';
import { defaultKubeletRootDir, nodePaths, type NodePaths } from './paths.js';
import { podCgroups, removePodCgroups } from './pod-cgroups.js';
import { registryPaths } from './registry-mirror.js';

export const kubeletRootMarker = '.sscsi-node';

export interface StopReport {
  containersRemoved: number;
  unmounted: number;
  /** Mounts that stayed busy and were detached lazily. */
  lazyUnmounts: string[];
  cgroupsRemoved: number;
  /** What is still there after stopping (empty when the node is fully gone). */
  leftovers: string[];
}

async function killShims(paths: NodePaths): Promise<void> {
  for (const pid of await findProcesses(['-address', paths.containerd.socket])) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function runcLeftovers(paths: NodePaths): Promise<void> {
  let namespaces: string[] = [];
  try {
    namespaces = await readdir(paths.containerd.runcRoot);
  } catch {
    return;
  }
  for (const ns of namespaces) {
    const root = join(paths.containerd.runcRoot, ns);
    const ids = await run('runc', ['--root', root, 'list', '--quiet']).then(
      (r) => r.stdout.split('\n').filter(Boolean),
      () => [] as string[],
    );
    for (const id of ids) await run('runc', ['--root', root, 'delete', '--force', id]).catch(() => undefined);
  }
}

/** /var/log/containers links the kubelet made into this node's pod log dir. */
async function removeContainerLogLinks(paths: NodePaths): Promise<void> {
  const dir = '/var/log/containers';
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const target = await readlink(join(dir, n)).catch(() => '');
    if (target.startsWith(`${paths.kubelet.podLogs}/`)) await unlink(join(dir, n)).catch(() => undefined);
  }
}

function ownsRootDir(rootDir: string, stateDir: string, recorded: boolean | undefined): boolean {
  if (recorded !== undefined) return recorded;
  const marker = join(rootDir, kubeletRootMarker);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === stateDir;
}

/** Stops the node whose state is in `stateDir` and removes what it left; see the file comment. */
export async function stopNode(stateDir: string, options: { kubeletRootDir?: string; keepLock?: boolean } = {}): Promise<StopReport> {
  const record = await readNodeRecord(nodePaths(stateDir).record);
  // The machine-wide leftovers (the kubelet root dir's mounts, kubepods cgroups) are this
  // node's only when no other node holds the lock.
  const holder = (await readFile(nodeLockFile, 'utf8').catch(() => '')).trim();
  const exclusive = holder === '' || holder === stateDir;
  const paths = nodePaths(stateDir, options.kubeletRootDir ?? record?.kubeletRootDir ?? defaultKubeletRootDir);
  const report: StopReport = { containersRemoved: 0, unmounted: 0, lazyUnmounts: [], cgroupsRemoved: 0, leftovers: [] };

  // 1. The kubelet, by its recorded pid and by its config path (a record may be missing).
  const kubeletMarker = paths.kubelet.config;
  const kubeletPids = new Set([...(record?.kubeletPid ? [record.kubeletPid] : []), ...(await findProcesses([kubeletMarker]))]);
  for (const pid of kubeletPids) await stopDaemon({ pid, marker: kubeletMarker }, 10_000);

  // 2. Containers, while containerd still runs.
  const ctr = new Ctr(paths.containerd.socket);
  if (await ctr.answers()) {
    for (const id of await ctr.containerIds().catch(() => [] as string[])) {
      await ctr.removeContainer(id).then(
        () => report.containersRemoved++,
        () => undefined,
      );
    }
  }

  // 3. containerd, its shims, runc's leftovers.
  const containerdMarker = paths.containerd.config;
  const containerdPids = new Set([...(record?.containerdPid ? [record.containerdPid] : []), ...(await findProcesses([containerdMarker]))]);
  for (const pid of containerdPids) await stopDaemon({ pid, marker: containerdMarker }, 10_000);
  await killShims(paths);
  await runcLeftovers(paths);
  const registry = registryPaths(paths);
  for (const pid of await findProcesses([registry.config])) await stopDaemon({ pid, marker: registry.config }, 5_000);

  // 4. Mounts.
  const mountDirs = exclusive ? [paths.kubelet.rootDir, paths.dir] : [paths.dir];
  const u = await unmountAllUnder(mountDirs);
  report.unmounted = u.unmounted;
  report.lazyUnmounts = u.lazy;

  // 5. Cgroups, addresses, state, links, the kubelet root dir.
  const cg = exclusive ? await removePodCgroups() : { removed: 0, busy: [] };
  report.cgroupsRemoved = cg.removed;
  await removeContainerLogLinks(paths);
  for (const d of [paths.cni.ipamDir, paths.containerd.state, paths.containerd.root, paths.containerd.runcRoot, paths.containerd.certsDir, paths.kubelet.podLogs, join(registry.data, '..')]) await rm(d, { recursive: true, force: true });
  if (exclusive && ownsRootDir(paths.kubelet.rootDir, stateDir, record?.ownsKubeletRootDir) && (await mountsUnder([paths.kubelet.rootDir])).length === 0) {
    await rm(paths.kubelet.rootDir, { recursive: true, force: true });
  }
  await rm(paths.record, { force: true });
  if (!options.keepLock) await releaseNodeLock(stateDir);

  // 6. Look again.
  for (const pid of await findProcesses([kubeletMarker])) report.leftovers.push(`kubelet process ${pid}`);
  for (const pid of await findProcesses([containerdMarker])) report.leftovers.push(`containerd process ${pid}`);
  for (const pid of await findProcesses([registry.config])) report.leftovers.push(`registry process ${pid}`);
  for (const pid of await findProcesses(['-address', paths.containerd.socket])) report.leftovers.push(`containerd shim process ${pid}`);
  for (const m of await mountsUnder(mountDirs)) report.leftovers.push(`mount ${m}`);
  if (exclusive) for (const c of await podCgroups()) report.leftovers.push(`cgroup ${c}`);
  for (const b of cg.busy) report.leftovers.push(`busy cgroup ${b}`);
  return report;
}
