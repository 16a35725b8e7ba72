/**
 * Starting the node's containerd: config and CNI conflist written, the daemon started with
 * its log in the node's dir, and ready once it answers on its socket with the CRI plugin
 * loaded. A failure names the log and quotes its end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cniConfFile, cniConflist } from './cni-config.js';
import { containerdConfig } from './containerd-config.js';
import { Ctr } from './ctr.js';
import { startDaemon, type Daemon } from './daemon.js';
import { logTail } from './log-tail.js';
import type { NodePaths } from './paths.js';

export const containerdBinary = '/usr/bin/containerd';
export const cniBinDir = '/usr/lib/cni';

export interface ContainerdOptions {
  sandboxImage: string;
  podCidr: string;
  registryHosts: boolean;
  timeoutMs: number;
}

export async function startContainerd(paths: NodePaths, o: ContainerdOptions): Promise<{ daemon: Daemon; ctr: Ctr }> {
  const c = paths.containerd;
  for (const d of [c.root, c.state, c.runcRoot, c.opt, paths.cni.confDir, paths.cni.ipamDir]) await mkdir(d, { recursive: true });
  await writeFile(c.config, containerdConfig(paths, { sandboxImage: o.sandboxImage, cniBinDir, registryHosts: o.registryHosts }));
  await writeFile(join(paths.cni.confDir, cniConfFile), cniConflist(paths, o.podCidr));
  const daemon = startDaemon(containerdBinary, ['--config', c.config, '--log-level', 'info'], paths.logs.containerd);
  const ctr = new Ctr(c.socket);
  const until = Date.now() + o.timeoutMs;
  for (;;) {
    if (daemon.hasExited()) throw new Error(`containerd exited (${await daemon.exited}) before answering on ${c.socket}; ${await logTail(paths.logs.containerd)}`);
    if (await ctr.answers()) break;
    if (Date.now() > until) throw new Error(`containerd did not answer on ${c.socket} within ${o.timeoutMs} ms; ${await logTail(paths.logs.containerd)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const cri = await ctr.pluginStatus('io.containerd.grpc.v1', 'cri');
  if (cri !== 'ok') throw new Error(`containerd's CRI plugin did not load (status ${cri ?? 'absent'}); ${await logTail(paths.logs.containerd)}`);
  return { daemon, ctr };
}
