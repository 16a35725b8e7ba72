/**
 * What the node's programs leave outside its own dirs, at paths they do not let us choose:
 * - containerd 1.6 puts every shim's socket in /run/containerd/s (a hash of our socket, the
 *   namespace and the id; each task's state dir records it in its `address` file), and a
 *   shim that is killed leaves it there;
 * - libcni caches each ADD's result in /var/lib/cni/results (`<network>-<sandbox>-<ifname>`)
 *   until a DEL, and pods removed through containerd rather than the kubelet get no DEL;
 * - the kubelet makes /var/log/containers for its log links.
 * `hostDirsToWatch` are the directories a start records as made by the node when they did not
 * exist before it, so the stop removes them again once empty.
 */
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cniNetworkName } from './cni-config.js';
import type { NodePaths } from './paths.js';

export const shimSocketDir = '/run/containerd/s';
export const cniResultsDir = '/var/lib/cni/results';
export const hostDirsToWatch: readonly string[] = ['/run/containerd', '/run/containerd/s', '/var/lib/cni', '/var/lib/cni/results', '/var/log/containers'];

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

function taskDir(paths: NodePaths): string {
  return join(paths.containerd.state, 'io.containerd.runtime.v2.task');
}

/** Container and sandbox ids the node's containerd state knows, with their shims' socket paths. */
export async function runtimeLeftovers(paths: NodePaths): Promise<{ ids: Set<string>; shimSockets: Set<string> }> {
  const ids = new Set<string>();
  const shimSockets = new Set<string>();
  for (const ns of await list(taskDir(paths))) {
    for (const id of await list(join(taskDir(paths), ns))) {
      ids.add(id);
      const address = (await readFile(join(taskDir(paths), ns, id, 'address'), 'utf8').catch(() => '')).trim();
      const socket = address.replace(/^unix:\/\//, '');
      if (socket.startsWith(`${shimSocketDir}/`)) shimSockets.add(socket);
    }
  }
  for (const id of await list(join(paths.containerd.state, 'io.containerd.grpc.v1.cri', 'sandboxes'))) ids.add(id);
  return { ids, shimSockets };
}

/**
 * Removes the shim sockets and, with `allOfOurNetwork` (no other node on the machine), the
 * CNI result cache entries of the node: every entry of our network (`sscsi-ptp-*`), and the
 * loopback entries of the sandboxes in `ids` or in those.
 */
export async function removeHostLeftovers(shimSockets: Iterable<string>, ids: Set<string>, allOfOurNetwork: boolean): Promise<void> {
  for (const s of shimSockets) await rm(s, { force: true });
  if (!allOfOurNetwork) return;
  const results = await list(cniResultsDir);
  for (const f of results) {
    const m = new RegExp(`^${cniNetworkName}-([0-9a-f]{64})-`).exec(f);
    if (m) ids.add(m[1]!);
  }
  for (const f of results) {
    const id = /-([0-9a-f]{64})-[^-]+$/.exec(f)?.[1];
    if (f.startsWith(`${cniNetworkName}-`) || (f.startsWith('cni-loopback-') && id && ids.has(id))) await rm(join(cniResultsDir, f), { force: true });
  }
}

/** Removes each directory the node made, deepest first, when it is empty again. */
export async function removeMadeDirs(made: readonly string[]): Promise<void> {
  for (const d of [...made].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);
}
