/**
 * `sscsi scenarios run [--target sim|kind|k8s] [--state-dir DIR] [--runtime process|docker] [--only NAME...] [--junit FILE] [--json FILE] [--pods N]`:
 * runs the scenarios, prints progress and the result table, writes JUnit XML and JSON when
 * asked, and exits 1 when any check failed (2 for bad usage).
 * With `--provider NAME=SOCKET --spc FILE` they run against the user's provider on the
 * simulated cluster (scenarios/byo/): its probe Mount says what every volume must hold.
 * With `--driver-bin PATH` the sim's nodes run that driver binary (e.g. upstream's) with
 * upstream's flags only, and steps beyond upstream are reported skipped with the reason.
 */
import { access, constants } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runScenarios } from '../scenarios/runner.js';
import { emitRunReports, type RunResult } from '../scenarios/report.js';
import type { ReportFiles } from '../harness/report-format.js';
import { allScenarios } from '../scenarios/all.js';
import { SimCluster, type SimClusterOptions, type StartedSimCluster } from '../cluster/sim/sim-cluster.js';
import { noFaults, type FaultKind } from '../sim/apiserver/faults.js';
import type { Cluster } from '../cluster/cluster.js';
import { packageRoot } from '../driver/version.js';
import { ExecaRunner } from '../kind/bootstrap/command-runner.js';
import { KindBootstrapper } from '../kind/bootstrap/kind-bootstrapper.js';
import { KindCluster } from '../cluster/kind/kind-cluster.js';
import { KubectlPortForwarder } from '../cluster/kind/port-forward.js';
import { K8sCluster, readK8sDescription } from '../cluster/k8s/k8s-cluster.js';
import type { ClusterNeeds, Scenario } from '../scenarios/scenario.js';
import { byoScenarios } from '../scenarios/byo/all.js';
import { checkReachable, digest, probeProvider, type Expectation } from '../scenarios/byo/provider-probe.js';
import type { ByoTarget } from '../scenarios/byo/byo-target.js';
import { ProviderSession } from '../provider-proxy/provider-session.js';
import { createLogger } from '../log/logger.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { calibrate } from '../harness/calibration.js';
import { loadSpcFile } from '../harness/spc-file.js';
import { splitUpstreamFlags } from '../harness/upstream-flags.js';
import type { ExternalProviderSpec } from '../cluster/sim/external-provider.js';
import { parseFlags } from './parse-flags.js';
import { parseProviderFlags, splitProviderFlag } from './provider-flag.js';

/** Pods per mount-storm round on the k8s target unless --pods says otherwise. */
export const k8sDefaultStormPods = 30;

export const scenariosUsage = `Usage: sscsi scenarios run [--target sim|kind|k8s] [--state-dir DIR] [--runtime process|docker] [--kind-name NAME] [--driver-bin PATH] [--only NAME]... [--junit FILE] [--json FILE] [--pods N] [--api-fault-rate R]
       sscsi scenarios run --provider NAME=SOCKET_PATH --spc FILE [--provider-cmd COMMAND] [--rotate-cmd COMMAND] [--driver-bin PATH] [--only NAME]... [--junit FILE] [--json FILE] [--pods N]

Scenarios: ${allScenarios.map((s) => s.name).join(', ')}

Options:
  --target sim|kind|k8s
                      where to run (default sim: the embedded simulated cluster; kind: a
                      cluster made by sscsi kind up; k8s: the local node of sscsi k8s up —
                      both with the real kubelet)
  --state-dir DIR     with --target k8s: the state directory of sscsi k8s up (its sim.json)
  --kind-name NAME    the kind cluster (default sscsi)
  --runtime process|docker
                      on the sim, the driver and fake providers as processes (default) or as
                      containers on the local Docker engine (images from npm run sscsi -- image build)
  --driver-bin PATH   on the sim (process runtime), run this driver binary instead of ours, e.g.
                      upstream's secrets-store-csi-driver: it gets upstream's flags only (a flag of
                      ours a scenario asks for, such as --provider-max-inflight, is left out and
                      said so), and steps that check what only our driver does are skipped with
                      the reason ("beyond upstream")
  --only NAME         run only this scenario (repeatable)
  --junit FILE        write JUnit XML (one testsuite per scenario)
  --json FILE         write the results as JSON
  --pods N            pods per mount-storm round (default 200; ${k8sDefaultStormPods} on --target k8s)
  --api-fault-rate R  on the sim, fail this share (0..1) of the driver's API requests with
                      409 (writes), 429 with Retry-After, 500, 503 or 200 ms of latency, mixed;
                      the run ends with the number of faults injected of each kind
  --provider NAME=SOCKET_PATH
                      run against your provider (serving the v1alpha1 CSIDriverProvider API on
                      SOCKET_PATH) on the simulated cluster; needs --spc. What its Mount answers
                      for the SPC is what every pod must see. The nodes reach it through a fault
                      proxy (the fake provider's faults, for outage and slow-provider steps)
  --provider-cmd COMMAND
                      the harness starts your provider itself (sh -c COMMAND), waits for
                      SOCKET_PATH, keeps its output in the run's log directory, and
                      provider-outage kills it (kill -9) and starts it again; without it the
                      outage is the proxy answering UNAVAILABLE
  --rotate-cmd COMMAND
                      how to change an object in your provider's backend (sh -c COMMAND, with
                      SSCSI_ROTATION=1, 2, ... counting the runs); rotation and the restart's
                      rotation step judge by what your provider's Mount answers afterwards.
                      Without it they are skipped
  --spc FILE          a SecretProviderClass (YAML, v1 or v1alpha1) written for that provider:
                      spec.provider must be NAME; spec.secretObjects, if any, drive the sync scenario
`;

export async function scenariosRun(argv: string[]): Promise<number> {
  const parsed = parseFlags<{ target: string; runtime: string; 'kind-name': string; 'state-dir'?: string; only?: string[]; junit?: string; json?: string; pods?: string; provider?: string[]; spc?: string; 'provider-cmd'?: string; 'rotate-cmd'?: string; 'driver-bin'?: string; 'api-fault-rate'?: string }>('sscsi scenarios run', scenariosUsage, argv, {
    target: { type: 'string', default: 'sim' },
    runtime: { type: 'string', default: 'process' },
    'kind-name': { type: 'string', default: 'sscsi' },
    'state-dir': { type: 'string' },
    only: { type: 'string', multiple: true },
    junit: { type: 'string' },
    json: { type: 'string' },
    pods: { type: 'string' },
    provider: { type: 'string', multiple: true },
    spc: { type: 'string' },
    'provider-cmd': { type: 'string' },
    'rotate-cmd': { type: 'string' },
    'driver-bin': { type: 'string' },
    'api-fault-rate': { type: 'string' },
  });
  if (parsed.exit !== undefined) return parsed.exit;
  const values = parsed.values;
  const unknown = (values.only ?? []).filter((n) => !allScenarios.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`sscsi scenarios run: unknown scenario ${unknown.join(', ')}\n${scenariosUsage}`);
    return 2;
  }
  let pods = values.pods === undefined ? undefined : Number(values.pods);
  if (pods !== undefined && !(Number.isInteger(pods) && pods > 0 && pods <= 5000)) {
    process.stderr.write(`sscsi scenarios run: --pods must be a whole number from 1 to 5000, got ${JSON.stringify(values.pods)}\n`);
    return 2;
  }
  const faultRate = values['api-fault-rate'] === undefined ? undefined : Number(values['api-fault-rate']);
  if (faultRate !== undefined && !(values['api-fault-rate']!.trim() !== '' && faultRate >= 0 && faultRate <= 1)) {
    process.stderr.write(`sscsi scenarios run: --api-fault-rate must be a number from 0 to 1, got ${JSON.stringify(values['api-fault-rate'])}\n`);
    return 2;
  }
  if (faultRate !== undefined && values.target !== 'sim') {
    process.stderr.write('sscsi scenarios run: --api-fault-rate needs --target sim: faults are injected by the simulated API server\n');
    return 2;
  }
  if (values.target !== 'sim' && values.target !== 'kind' && values.target !== 'k8s') {
    process.stderr.write(`sscsi scenarios run: --target must be sim, kind or k8s, got ${JSON.stringify(values.target)}\n`);
    return 2;
  }
  const stateDir = values['state-dir'];
  if ((stateDir === undefined) !== (values.target !== 'k8s')) {
    process.stderr.write(
      stateDir === undefined
        ? 'sscsi scenarios run: --target k8s needs --state-dir DIR: the state directory of a cluster brought up by sscsi k8s up --state-dir DIR\n'
        : `sscsi scenarios run: --state-dir goes with --target k8s (the cluster sscsi k8s up brought up), not --target ${values.target}\n`,
    );
    return 2;
  }
  const kindName = values['kind-name'];
  const runtime = values.runtime;
  if (runtime !== 'process' && runtime !== 'docker') {
    process.stderr.write(`sscsi scenarios run: --runtime must be process or docker, got ${JSON.stringify(runtime)}\n`);
    return 2;
  }
  let driverBin = values['driver-bin'] === undefined ? undefined : resolve(values['driver-bin']);
  if (driverBin !== undefined && (values.target !== 'sim' || runtime !== 'process')) {
    process.stderr.write('sscsi scenarios run: --driver-bin runs on the simulated cluster with the process runtime (--target sim --runtime process): elsewhere the driver comes from its image\n');
    return 2;
  }
  if (driverBin !== undefined && !(await access(driverBin, constants.X_OK).then(() => true, () => false))) {
    process.stderr.write(`sscsi scenarios run: --driver-bin ${driverBin} is not an executable file\n`);
    return 2;
  }
  const providers = values.provider ?? [];
  if (providers.length > 0 || values.spc !== undefined || values['provider-cmd'] !== undefined || values['rotate-cmd'] !== undefined) {
    const usage = byoUsageError(providers, values.spc, values.target, runtime);
    if (usage) {
      process.stderr.write(`sscsi scenarios run: ${usage}\n`);
      return 2;
    }
    return runByo(providers[0]!, values.spc!, { only: values.only, pods, junit: values.junit, json: values.json, driverBin, faults: new FaultTally(faultRate), providerCmd: values['provider-cmd'], rotateCmd: values['rotate-cmd'] });
  }
  let startCluster: (needs: ClusterNeeds) => Promise<Cluster>;
  let target: string;
  const faults = new FaultTally(faultRate);
  if (values.target === 'k8s') {
    // A state dir without a cluster fails here, once, rather than once per scenario.
    try {
      // A cluster brought up with another driver (k8s up --driver-bin) is judged as that
      // driver: the steps of our extensions are skipped, saying so, as on the sim.
      driverBin ??= (await readK8sDescription(resolve(stateDir!))).driverBin;
    } catch (err) {
      process.stderr.write(`sscsi scenarios run --target k8s: ${(err as Error).message}\n`);
      return 1;
    }
    target = 'k8s';
    // One real node on this machine runs every pod's sandbox and container (and takes at
    // most 110 pods, the kubelet's maxPods): a storm of 200 is the sim's, not this node's.
    pods ??= k8sDefaultStormPods;
    startCluster = (needs) => new K8sCluster({ stateDir: stateDir!, ...(needs.driverArgs ? { driverArgs: needs.driverArgs } : {}) }).start();
  } else if (values.target === 'kind') {
    const runner = new ExecaRunner();
    try {
      await new KindBootstrapper({ runner, root: packageRoot(), log: () => undefined }).checkTools();
    } catch (err) {
      process.stderr.write(`sscsi scenarios run --target kind: ${(err as Error).message}\n`);
      return 1;
    }
    target = 'kind';
    startCluster = (needs) => new KindCluster({ name: kindName, runner, forwarder: new KubectlPortForwarder(), ...(needs.driverArgs ? { driverArgs: needs.driverArgs } : {}) }).start();
  } else {
    target = runtime === 'docker' ? 'sim+docker' : 'sim';
    startCluster = (needs) => startSim(needs, { runtime, ...(driverBin ? { driverBin } : {}) }, faults);
  }
  const run = await runScenarios(pick(allScenarios, values.only), { target, pods, startCluster, driverBin, machine: await calibrate() });
  return report(run, values, faults);
}

/** The API faults the simulated clusters of a run injected (`--api-fault-rate`), summed. */
class FaultTally {
  private readonly clusters: StartedSimCluster[] = [];
  constructor(readonly rate: number | undefined) {}
  add(cluster: StartedSimCluster): StartedSimCluster {
    this.clusters.push(cluster);
    return cluster;
  }
  result(): RunResult['apiFaults'] {
    if (this.rate === undefined) return undefined;
    const byKind = noFaults();
    for (const c of this.clusters) for (const [k, n] of Object.entries(c.api.faults.injected())) byKind[k as FaultKind] += n;
    return { rate: this.rate, injected: Object.values(byKind).reduce((a, n) => a + n, 0), byKind };
  }
}

async function report(run: RunResult, files: ReportFiles, faults: FaultTally): Promise<number> {
  const apiFaults = faults.result();
  if (apiFaults) run.apiFaults = apiFaults;
  await emitRunReports(run, files);
  return run.passed ? 0 : 1;
}

/** The scenarios `--only` names, in their own order; all without it. */
const pick = (scenarios: Scenario[], only: string[] | undefined) => (only ? scenarios.filter((s) => only.includes(s.name)) : scenarios);

/**
 * A fresh simulated cluster for a scenario, with the kubelet timings the scenarios are written
 * for. Another driver binary gets only upstream's flags; the ones left out are said.
 */
async function startSim(needs: ClusterNeeds, options: SimClusterOptions, faults: FaultTally): Promise<Cluster> {
  let driverArgs = needs.driverArgs ?? [];
  if (options.driverBin !== undefined) {
    const { upstream, ours } = splitUpstreamFlags(driverArgs);
    if (ours.length > 0) process.stdout.write(`  (not passed to ${options.driverBin}, not upstream flags: ${ours.join(' ')})\n`);
    driverArgs = upstream;
  }
  return faults.add(
    await new SimCluster({ ...options, driverArgs, ...(faults.rate ? { apiFaultRate: faults.rate } : {}), kubeletTimings: { backoffInitialMs: 500, backoffMaxMs: 4000, republishPeriodMs: 10_000, ...needs.kubeletTimings } }).start(),
  );
}

/** What is wrong with a --provider/--spc command line, or undefined. */
function byoUsageError(providers: string[], spc: string | undefined, target: string, runtime: string): string | undefined {
  if (providers.length === 0) return `${spc !== undefined ? '--spc needs' : '--provider-cmd and --rotate-cmd need'} --provider NAME=SOCKET_PATH: the provider the SecretProviderClass is written for`;
  if (spc === undefined) return '--provider needs --spc FILE: a SecretProviderClass written for that provider (what to mount is its own convention)';
  if (providers.length > 1) return '--provider is given more than once: scenarios run against one provider at a time';
  if (target !== 'sim') return `--provider runs on the simulated cluster only (--target sim): on ${target} the provider would have to be deployed to the cluster's nodes`;
  if (runtime !== 'process') return '--provider needs --runtime process: with --runtime docker the driver runs in a container, where the socket of your provider is not visible';
  return undefined;
}

interface ByoOptions {
  driverBin: string | undefined;
  only: string[] | undefined;
  pods: number | undefined;
  junit: string | undefined;
  json: string | undefined;
  faults: FaultTally;
  providerCmd: string | undefined;
  rotateCmd: string | undefined;
}

/** The scenarios against the user's provider: check the usage, start the provider and the fault proxy, probe, run. */
async function runByo(providerFlag: string, spcFile: string, options: ByoOptions): Promise<number> {
  let provider: ExternalProviderSpec;
  let spc;
  try {
    // With --provider-cmd the socket appears once the harness has started the provider.
    provider = options.providerCmd === undefined ? parseProviderFlags([providerFlag])[0]! : splitProviderFlag(providerFlag);
    spc = await loadSpcFile(spcFile, provider.name);
  } catch (err) {
    process.stderr.write(`sscsi scenarios run: ${(err as Error).message}\n`);
    return 2;
  }
  const runDir = await mkdtemp(join(tmpdir(), 'sscsi-byo-'));
  const keepLogs = options.providerCmd !== undefined || options.rotateCmd !== undefined;
  let session: ProviderSession;
  try {
    session = await ProviderSession.start({
      name: provider.name,
      socket: provider.socket,
      proxySocket: join(runDir, 'proxy', `${provider.name}.sock`),
      providerCmd: options.providerCmd,
      rotateCmd: options.rotateCmd,
      logDir: runDir,
      logger: createLogger({ name: 'byo-provider', level: 'warn' }),
    });
  } catch (err) {
    // The error carries the provider's output; nothing else was written.
    process.stderr.write(`sscsi scenarios run: ${(err as Error).message}\n`);
    await rm(runDir, { recursive: true, force: true });
    return 1;
  }
  try {
    const target: ByoTarget = {
      provider,
      spc,
      expectation: undefined as unknown as Expectation,
      session,
      async reprobe() {
        target.expectation = await probeProvider(provider, spc);
        return target.expectation;
      },
    };
    let expectation;
    try {
      expectation = await target.reprobe();
    } catch (err) {
      process.stderr.write(`sscsi scenarios run: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(
      [
        `probed the external provider ${provider.name} at ${provider.socket} with ${spc.file}: ${expectation.objectVersions.length} object(s), ${expectation.files.length} file(s)${expectation.writtenByProvider ? ' (written by the provider itself)' : ''}`,
        ...expectation.objectVersions.map((o) => `  object ${o.id} version ${o.version}`),
        ...expectation.files.map((f) => `  file ${f.path} mode ${f.mode.toString(8).padStart(4, '0')} ${digest(f.contents)}`),
        `the nodes reach it through the fault proxy at ${session.proxy.socket} (control API ${session.proxy.control})${keepLogs ? `; logs in ${runDir}` : ''}`,
        '',
      ].join('\n'),
    );
    const startCluster = async (needs: ClusterNeeds): Promise<Cluster> => {
      // The provider is the user's: if it went away, say so rather than wait for every pod.
      await checkReachable(provider);
      return startSim(needs, { providers: [], externalProviders: [{ name: provider.name, socket: session.proxy.socket }], ...(options.driverBin ? { driverBin: options.driverBin } : {}) }, options.faults);
    };
    const run = await runScenarios(pick(byoScenarios(target), options.only), {
      target: 'sim',
      pods: options.pods,
      startCluster,
      externalProvider: { name: provider.name, socket: provider.socket },
      driverBin: options.driverBin,
      machine: await calibrate(),
    });
    const code = await report(run, options, options.faults);
    if (keepLogs) process.stdout.write(`logs of the provider and the rotate command: ${runDir}\n`);
    return code;
  } finally {
    await session.close();
    // Without the hooks the directory held only the proxy's socket.
    if (!keepLogs) await rm(runDir, { recursive: true, force: true });
  }
}
