/**
 * `sscsi sim up`: starts the simulated cluster (API server, control plane, kubelet, the
 * driver and a fake provider `fake` serving fake-providers/examples/store.yaml), prints
 * where everything is, writes the same to <state-dir>/sim.json for tools, and keeps running
 * until SIGINT or SIGTERM, when it tears everything down and leaves no mount behind.
 * `--provider NAME=SOCKET_PATH` adds a provider the user runs: every node's driver reaches it
 * as <provider dir>/NAME.sock; the sim never starts or stops it. `--driver-bin PATH` runs
 * that driver binary (e.g. upstream's) on every node instead of ours, with upstream's flags.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDuration } from '../driver/flags.js';
import { mountsUnder } from '../driver/mount/mount-info.js';
import { SimCluster, type ExternalProviderSpec } from '../cluster/sim/sim-cluster.js';
import { parseFlags } from './parse-flags.js';
import { parseProviderFlags } from './provider-flag.js';

export const simUpUsage = `Usage: sscsi sim up [--nodes N] [--republish-period DURATION] [--state-dir DIR] [--runtime process|docker] [--provider NAME=SOCKET_PATH]... [--driver-bin PATH] [-- DRIVER_FLAGS...]

Starts a simulated cluster and keeps it running until interrupted.

Options:
  --nodes N                     simulated nodes, each with a kubelet, a driver and a fake provider (default 1)
  --republish-period DURATION   how often the kubelet republishes mounted volumes (default 60s)
  --state-dir DIR               where kubeconfigs, sockets, logs and sim.json go (default: a new temp dir)
  --runtime process|docker      the driver and fake providers as processes (default) or as containers on
                                the local Docker engine (images from npm run sscsi -- image build)
  --provider NAME=SOCKET_PATH   a provider you run, serving the v1alpha1 CSIDriverProvider API on
                                SOCKET_PATH: every driver reaches it as NAME (spec.provider: NAME);
                                the sim does not start or stop it (repeatable; process runtime only).
                                The fake provider "fake" still runs unless NAME is fake.
  --driver-bin PATH             run this driver binary on every node instead of ours (e.g. upstream's
                                secrets-store-csi-driver), with upstream's flags only: --endpoint, --nodeid,
                                --provider-volume, --additional-provider-volume-paths, --metrics-addr,
                                --kubeconfig (the driver's RBAC-limited identity) and the DRIVER_FLAGS;
                                ready when its socket answers Probe (process runtime only)
  -- DRIVER_FLAGS...            passed to every driver, e.g. -- --enable-secret-rotation --rotation-poll-interval=2s
`;

export async function simUp(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const driverArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const parsed = parseFlags<{ nodes: string; 'republish-period': string; 'state-dir'?: string; runtime: string; provider?: string[]; 'driver-bin'?: string }>('sscsi sim up', simUpUsage, own, {
    nodes: { type: 'string', default: '1' },
    'republish-period': { type: 'string', default: '60s' },
    'state-dir': { type: 'string' },
    runtime: { type: 'string', default: 'process' },
    provider: { type: 'string', multiple: true },
    'driver-bin': { type: 'string' },
  });
  if (parsed.exit !== undefined) return parsed.exit;
  const values = parsed.values;
  const runtime = values.runtime;
  if (runtime !== 'process' && runtime !== 'docker') {
    process.stderr.write(`sscsi sim up: --runtime must be process or docker, got ${JSON.stringify(runtime)}\n`);
    return 2;
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) {
    process.stderr.write(`sscsi sim up: --nodes must be a whole number from 1 to 50, got ${JSON.stringify(values.nodes)}\n`);
    return 2;
  }
  let republishPeriodMs: number;
  try {
    republishPeriodMs = parseDuration(values['republish-period'], 'republish-period');
    if (republishPeriodMs <= 0) throw new Error('--republish-period must be positive');
  } catch (err) {
    process.stderr.write(`sscsi sim up: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.provider?.length && runtime === 'docker') {
    process.stderr.write('sscsi sim up: --provider needs --runtime process: with --runtime docker the drivers run in containers, where the socket of your provider is not visible\n');
    return 2;
  }
  if (values['driver-bin'] !== undefined && runtime === 'docker') {
    process.stderr.write('sscsi sim up: --driver-bin needs --runtime process: with --runtime docker the driver runs from its image\n');
    return 2;
  }
  const driverBin = values['driver-bin'] === undefined ? undefined : resolve(values['driver-bin']);
  let externalProviders: ExternalProviderSpec[];
  try {
    externalProviders = parseProviderFlags(values.provider ?? []);
  } catch (err) {
    process.stderr.write(`sscsi sim up: ${(err as Error).message}\n`);
    return 2;
  }
  const stateDir = values['state-dir'] ? resolve(values['state-dir']) : undefined;
  const started = performance.now();
  process.stderr.write('starting the simulated cluster...\n');
  let cluster;
  try {
    cluster = await new SimCluster({ ...(stateDir ? { stateDir } : {}), nodes, driverArgs, runtime, externalProviders, ...(driverBin ? { driverBin } : {}), kubeletTimings: { republishPeriodMs } }).start();
  } catch (err) {
    process.stderr.write(`sscsi sim up: failed to start: ${(err as Error).message}\n`);
    return 1;
  }
  const description = cluster.describe();
  const simJson = join(cluster.root, 'sim.json');
  await writeFile(simJson, `${JSON.stringify(description, null, 2)}\n`);
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    [
      `simulated cluster ready in ${ms} ms (${nodes} node${nodes > 1 ? 's' : ''})`,
      `  kubeconfig:       ${description.kubeconfig}`,
      `  API server:       ${cluster.api.url}`,
      ...(driverBin ? [`  driver binary:    ${driverBin} (upstream flags only)`] : []),
      ...cluster.nodes.map((n) => `  driver (${n.name}): unix://${n.csiSocket}  metrics http://${n.metricsAddr}/metrics  log ${join(n.dir, 'driver.log')}`),
      ...description.providers.map((p) =>
        'external' in p ? `  provider ${p.name} (${p.node}): external  socket ${p.socket}  linked as ${p.link}` : `  provider ${p.name} (${p.node}): control ${p.control}  socket ${p.socket}`,
      ),
      `  state:            ${simJson}`,
      '',
      `try: kubectl --kubeconfig ${description.kubeconfig} get pods,secretproviderclasses,secretproviderclasspodstatuses -A`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolveSignal) => {
    const onSignal = (sig: string) => {
      process.stderr.write(`\n${sig}: stopping the simulated cluster...\n`);
      resolveSignal();
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
  await cluster.stop();
  const left = stateDir ? await mountsUnder(cluster.root) : [];
  if (left.length > 0) {
    process.stderr.write(`stopped, but ${left.length} mount(s) remain under ${cluster.root}: ${left.map((m) => m.mountPoint).join(', ')}\n`);
    return 1;
  }
  process.stderr.write('stopped\n');
  return 0;
}
