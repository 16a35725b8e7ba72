/**
 * `sscsi k8s up` and `sscsi k8s down`: a real Kubernetes node on this machine (the k8s
 * target; cluster/k8s/local-cluster does the work). `up` prints each step, writes
 * <state-dir>/sim.json in the shape `sscsi sim up` writes, and keeps running until SIGINT or
 * SIGTERM (or `sscsi k8s down`), when it stops everything and checks nothing is left.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downLocalCluster } from '../cluster/k8s/local-cluster/down.js';
import { startLocalCluster } from '../cluster/k8s/local-cluster/local-cluster.js';
import { parseFlags } from './parse-flags.js';

export const k8sUsage = `Usage: sscsi k8s up [--state-dir DIR] [--driver-bin PATH [--driver-in-pod]] [-- DRIVER_FLAGS...]
       sscsi k8s down --state-dir DIR

  up    runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd and
        the kubelet on this machine (binaries from npm run peers; needs root), applies
        kind/manifests (the driver and fake-provider DaemonSets) and waits until the node
        and both DaemonSets are Ready; writes DIR/sim.json and keeps running until
        interrupted (Ctrl-C) or \`sscsi k8s down\`
  down  stops what \`up\` runs for DIR and checks that no process, mount, cgroup, container
        or CNI address is left (exit 1 naming what is)

Options:
  --state-dir DIR     certificates, kubeconfigs, logs, etcd data and sim.json (default for up:
                      a new temp dir); the kubelet's root dir is /var/lib/kubelet
  --driver-bin PATH   run this driver binary on the host (e.g. upstream's secrets-store-csi-driver)
                      instead of the DaemonSet's driver container, with upstream's flags only;
                      the DaemonSet keeps the registrar and the liveness probe
  --driver-in-pod     with --driver-bin: run the binary as the DaemonSet's driver container
                      instead (an image made from it, its libraries and busybox's mount),
                      so deleting the driver pod restarts it as it would in a cluster
  -- DRIVER_FLAGS...  passed to the driver, e.g. -- --rotation-poll-interval=2s
`;

type UpValues = { 'state-dir'?: string; 'driver-bin'?: string; 'driver-in-pod'?: boolean };

async function up(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const driverArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const parsed = parseFlags<UpValues>('sscsi k8s up', k8sUsage, own, { 'state-dir': { type: 'string' }, 'driver-bin': { type: 'string' }, 'driver-in-pod': { type: 'boolean' } });
  if (parsed.exit !== undefined) return parsed.exit;
  const stateDir = parsed.values['state-dir'] ? resolve(parsed.values['state-dir']) : await mkdtemp(join(tmpdir(), 'sscsi-k8s-'));
  const driverBin = parsed.values['driver-bin'] === undefined ? undefined : resolve(parsed.values['driver-bin']);
  const driverInPod = parsed.values['driver-in-pod'] === true;
  if (driverInPod && driverBin === undefined) {
    process.stderr.write(`sscsi k8s up: --driver-in-pod goes with --driver-bin PATH (the binary to run in the driver's pod)\n${k8sUsage}`);
    return 2;
  }
  const abort = new AbortController();
  let stopRequested: (() => void) | undefined;
  const stopped = new Promise<void>((r) => (stopRequested = r));
  // Kept (`on`, not `once`) until the process exits: execa's exit hook re-raises a signal
  // that no other listener handles, which would kill us in the middle of stopping.
  const onSignal = (sig: string) => {
    if (abort.signal.aborted) {
      process.stderr.write(`${sig}: already stopping\n`);
      return;
    }
    process.stderr.write(`\n${sig}: stopping the k8s cluster...\n`);
    abort.abort();
    stopRequested!();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`starting the k8s cluster in ${stateDir}...`);
  let cluster;
  try {
    cluster = await startLocalCluster({ stateDir, ...(driverBin ? { driverBin, driverInPod } : {}), driverArgs, log, signal: abort.signal });
  } catch (err) {
    process.stderr.write(`sscsi k8s up: failed: ${(err as Error).message}\n`);
    return abort.signal.aborted ? 130 : 1;
  }
  const description = cluster.describe();
  const simJson = join(stateDir, 'sim.json');
  await writeFile(simJson, `${JSON.stringify(description, null, 2)}\n`);
  const t = cluster.timings;
  process.stdout.write(
    [
      `k8s cluster ready in ${t.totalMs} ms (control plane ${t.controlPlaneMs} ms, node Ready at ${t.nodeMs} ms), node ${cluster.nodeName}`,
      `  kubeconfig:       ${description.kubeconfig}`,
      `  API server:       ${cluster.controlPlane.apiServerUrl}`,
      ...(driverBin ? [`  driver binary:    ${driverBin} (${driverInPod ? 'in the DaemonSet\'s pod' : 'on the host'}, upstream flags only)`] : []),
      `  driver (${cluster.nodeName}): ${description.driver.endpoint}  metrics ${description.driver.metrics}`,
      ...description.providers.flatMap((p) => ('control' in p ? [`  provider ${p.name} (${p.node}): control ${p.control}  socket ${p.socket}`] : [])),
      `  logs:             ${join(stateDir, 'logs')}, ${cluster.node.logs.kubelet}, ${cluster.node.logs.containerd}`,
      `  state:            ${simJson}`,
      '',
      `try: kubectl --kubeconfig ${description.kubeconfig} get nodes,pods -A`,
      `Ctrl-C (or sscsi k8s down --state-dir ${stateDir}) stops it.`,
      '',
    ].join('\n'),
  );
  if (!abort.signal.aborted) await stopped;
  const report = await cluster.stop();
  if (report.leftovers.length > 0) {
    process.stderr.write(`stopped, but left behind:\n${report.leftovers.map((l) => `  ${l}`).join('\n')}\n`);
    return 1;
  }
  process.stderr.write('stopped\n');
  return 0;
}

async function down(argv: string[]): Promise<number> {
  const parsed = parseFlags<{ 'state-dir'?: string }>('sscsi k8s down', k8sUsage, argv, { 'state-dir': { type: 'string' } });
  if (parsed.exit !== undefined) return parsed.exit;
  if (!parsed.values['state-dir']) {
    process.stderr.write(`sscsi k8s down: --state-dir is required (the DIR sscsi k8s up printed)\n${k8sUsage}`);
    return 2;
  }
  const stateDir = resolve(parsed.values['state-dir']);
  const report = await downLocalCluster(stateDir, (l) => process.stderr.write(`${l}\n`));
  if (report.leftovers.length > 0) {
    process.stderr.write(`sscsi k8s down: left behind:\n${report.leftovers.map((l) => `  ${l}`).join('\n')}\n`);
    return 1;
  }
  process.stderr.write(`stopped: nothing left of ${stateDir}${report.killed.length ? ` (killed ${report.killed.join(', ')})` : ''}\n`);
  return 0;
}

export async function k8sCommand(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'up':
      return up(argv.slice(1));
    case 'down':
      return down(argv.slice(1));
    case '--help':
    case '-h':
      process.stdout.write(k8sUsage);
      return 0;
    default:
      process.stderr.write(`sscsi k8s: unknown command ${JSON.stringify(argv[0] ?? '')}\n${k8sUsage}`);
      return 2;
  }
}
