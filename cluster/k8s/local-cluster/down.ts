/**
 * `sscsi k8s down --state-dir DIR`, from any process: stop what `sscsi k8s up` runs for DIR
 * and check that nothing is left.
 *  1. the `up` process, with SIGTERM: it stops its cluster itself (as on Ctrl-C);
 *  2. any process it recorded that still runs (it was killed, say): SIGTERM, then SIGKILL;
 *  3. the node's stop (node/stop-node.ts), which is safe to repeat: kubelet, containers,
 *     containerd and shims, mounts under the kubelet's root dir, pod cgroups, CNI leases;
 *  4. look again: any process whose command line names DIR, and what the node's stop found.
 */
import { readdir, readFile } from 'node:fs/promises';
import { defaultKubeletRootDir } from '../node/paths.js';
import { stopNode } from '../node/stop-node.js';
import { isProcess, terminate } from './process-check.js';
import { readUpRecord, removeUpRecord } from './up-record.js';

export interface DownReport {
  /** The `up` process was running and was asked to stop. */
  stoppedUp: boolean;
  /** Recorded processes that were still running after `up` was gone (or without it). */
  killed: string[];
  leftovers: string[];
}

/** This process and its ancestors (`npm run sscsi -- k8s down --state-dir DIR` names DIR too). */
async function selfAndAncestors(): Promise<Set<number>> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return pids;
}

/** Pids of processes (other than this one and its ancestors) whose command line mentions `word`. */
export async function processesMentioning(word: string): Promise<Array<{ pid: number; cmdline: string }>> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  const self = await selfAndAncestors();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || self.has(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(word)) found.push({ pid, cmdline: cmdline.split('\0').join(' ').trim() });
  }
  return found;
}

export async function downLocalCluster(stateDir: string, log: (line: string) => void = () => {}): Promise<DownReport> {
  const record = await readUpRecord(stateDir);
  const report: DownReport = { stoppedUp: false, killed: [], leftovers: [] };
  if (record && (await isProcess(record.pid, 'k8s'))) {
    log(`• stopping sscsi k8s up (pid ${record.pid})`);
    await terminate(record.pid, 'k8s', 180_000);
    report.stoppedUp = true;
  }
  for (const p of (await readUpRecord(stateDir))?.processes ?? record?.processes ?? []) {
    if (await isProcess(p.pid, p.marker)) {
      log(`• stopping ${p.name} (pid ${p.pid})`);
      await terminate(p.pid, p.marker);
      report.killed.push(`${p.name} (pid ${p.pid})`);
    }
  }
  log('• the node: kubelet, containers, containerd, mounts, cgroups, CNI addresses');
  const node = await stopNode(stateDir, { kubeletRootDir: defaultKubeletRootDir });
  await removeUpRecord(stateDir);
  report.leftovers.push(...node.leftovers);
  for (const p of await processesMentioning(stateDir)) report.leftovers.push(`process ${p.pid}: ${p.cmdline.slice(0, 200)}`);
  return report;
}
