/**
 * One node per machine: a kubelet owns /var/lib/kubelet, port 10250 and the `kubepods`
 * cgroups, and stopping a node unmounts and removes all of them. So a node takes this lock
 * (a file naming its state dir) before it starts and releases it when stopped. A second
 * start waits for it (test files run in parallel) and then fails naming the holder and how
 * to stop it. A lock whose node has no process left and is older than `staleAfterMs` is
 * stale (its holder was killed before it could stop) and is taken over.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { findProcesses } from './daemon.js';
import { nodePaths } from './paths.js';
import { registryPaths } from './registry-mirror.js';

export const nodeLockFile = '/run/sscsi-k8s-node.lock';
const staleAfterMs = 120_000;

async function holderAlive(stateDir: string): Promise<boolean> {
  const p = nodePaths(stateDir);
  for (const marker of [p.kubelet.config, p.containerd.config, registryPaths(p).config]) if ((await findProcesses([marker])).length > 0) return true;
  return false;
}

async function tryTake(stateDir: string): Promise<string | undefined> {
  try {
    await writeFile(nodeLockFile, `${stateDir}\n`, { flag: 'wx' });
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const holder = (await readFile(nodeLockFile, 'utf8').catch(() => '')).trim();
  if (holder === stateDir) return undefined;
  const age = Date.now() - ((await stat(nodeLockFile).catch(() => undefined))?.mtimeMs ?? 0);
  if (age > staleAfterMs && !(await holderAlive(holder))) {
    await rm(nodeLockFile, { force: true });
    return tryTake(stateDir);
  }
  return holder || 'an unknown state dir';
}

/** Takes the machine's node lock for `stateDir`, waiting up to `waitMs` for another node to stop. */
export async function acquireNodeLock(stateDir: string, waitMs: number, log: (line: string) => void): Promise<void> {
  const until = Date.now() + waitMs;
  let said = false;
  for (;;) {
    const holder = await tryTake(stateDir);
    if (holder === undefined) return;
    if (Date.now() >= until) {
      throw new Error(`another k8s node runs on this machine (state dir ${holder}); one node per machine: stop it first (npm run sscsi -- k8s down --state-dir ${holder})`);
    }
    if (!said) log(`  waiting for the k8s node of ${holder} to stop (one node per machine)`);
    said = true;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Releases the lock if `stateDir` holds it. */
export async function releaseNodeLock(stateDir: string): Promise<void> {
  const holder = (await readFile(nodeLockFile, 'utf8').catch(() => '')).trim();
  if (holder === stateDir) await rm(nodeLockFile, { force: true });
}
