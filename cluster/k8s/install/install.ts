/**
 * Installing the driver the way a kind or production cluster gets it: the CRDs (waited on
 * until Established), then everything else of kind/manifests (as k8sManifests changed it),
 * then until both DaemonSets are rolled out and Ready. A DaemonSet that does not get Ready is
 * an error naming it, with its pods' states, the namespace's last warning events and the
 * kubelet's log file and last lines.
 */
import { readFile } from 'node:fs/promises';
import type { Kubectl } from './kubectl.js';
import { driverDaemonSet, fakeProviderDaemonSet, splitCrds, type Manifest } from './manifests.js';

export interface InstallOptions {
  kubectl: Kubectl;
  manifests: readonly Manifest[];
  /** Quoted when a DaemonSet does not get Ready. */
  kubeletLog: string;
  timeoutSeconds?: number;
  log?: (line: string) => void;
}

async function lastLines(file: string, n: number): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-n).join('\n');
}

/** Why `ds` is not Ready: its pods, the warnings in kube-system, the kubelet's log. */
async function notReadyReport(k: Kubectl, ds: string, kubeletLog: string): Promise<string> {
  const pods = await k.run(['-n', 'kube-system', 'get', 'pods', '-l', `app=${ds}`, '-o', 'wide']);
  const events = await k.run(['-n', 'kube-system', 'get', 'events', '--field-selector', 'type=Warning', '--sort-by=.lastTimestamp']);
  return [
    `pods:\n${(pods.stdout || pods.stderr).trim()}`,
    `warning events (last 10):\n${events.stdout.trim().split('\n').slice(-10).join('\n') || '(none)'}`,
    `kubelet log ${kubeletLog}, last lines:\n${await lastLines(kubeletLog, 15)}`,
  ].join('\n');
}

export async function installDriver(o: InstallOptions): Promise<void> {
  const log = o.log ?? (() => {});
  const k = o.kubectl;
  const timeout = `${o.timeoutSeconds ?? 180}s`;
  const { crds, rest } = splitCrds(o.manifests);
  log(`• CRDs (${crds.map((c) => c.metadata.name).join(', ')})`);
  await k.apply(crds);
  await k.ok(['wait', '--for=condition=Established', `--timeout=${timeout}`, ...crds.map((c) => `crd/${c.metadata.name}`)]);
  log(`• kind/manifests: ${rest.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  await k.apply(rest);
  for (const ds of [driverDaemonSet, fakeProviderDaemonSet]) {
    const started = performance.now();
    log(`• waiting for DaemonSet ${ds} to be Ready`);
    const r = await k.run(['-n', 'kube-system', 'rollout', 'status', `daemonset/${ds}`, `--timeout=${timeout}`]);
    if (r.exitCode !== 0) {
      throw new Error(`DaemonSet ${ds} was not Ready within ${timeout}: ${(r.stderr || r.stdout).trim()}\n${await notReadyReport(k, ds, o.kubeletLog)}`);
    }
    log(`  DaemonSet ${ds}: Ready in ${Math.round(performance.now() - started)} ms`);
  }
}
