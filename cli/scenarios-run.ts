/**
 * `sscsi scenarios run [--target sim|kind] [--runtime process|docker] [--only NAME...] [--junit FILE] [--json FILE] [--pods N]`:
 * runs the scenarios, prints progress and the result table, writes JUnit XML and JSON when
 * asked, and exits 1 when any check failed (2 for bad usage).
 */
import { parseArgs } from 'node:util';
import { runScenarios } from '../scenarios/runner.js';
import { formatTable, writeReports } from '../scenarios/report.js';
import { allScenarios } from '../scenarios/all.js';
import { SimCluster } from '../sim/cluster/sim-cluster.js';
import type { Cluster } from '../sim/cluster/cluster.js';
import type { ClusterNeeds } from '../scenarios/scenario.js';
import { packageRoot } from '../driver/version.js';
import { ExecaRunner } from '../kind/bootstrap/command-runner.js';
import { KindBootstrapper } from '../kind/bootstrap/kind-bootstrapper.js';
import { KindCluster } from '../kind/cluster/kind-cluster.js';
import { KubectlPortForwarder } from '../kind/cluster/port-forward.js';

export const scenariosUsage = `Usage: sscsi scenarios run [--target sim|kind] [--runtime process|docker] [--kind-name NAME] [--only NAME]... [--junit FILE] [--json FILE] [--pods N]

Scenarios: ${allScenarios.map((s) => s.name).join(', ')}

Options:
  --target sim|kind   where to run (default sim: the embedded simulated cluster; kind: a
                      cluster made by sscsi kind up, with the real kubelet)
  --kind-name NAME    the kind cluster (default sscsi)
  --runtime process|docker
                      on the sim, the driver and fake providers as processes (default) or as
                      containers on the local Docker engine (images from npm run sscsi -- image build)
  --only NAME         run only this scenario (repeatable)
  --junit FILE        write JUnit XML (one testsuite per scenario)
  --json FILE         write the results as JSON
  --pods N            pods per mount-storm round (default 200)
`;

export async function scenariosRun(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        target: { type: 'string', default: 'sim' },
        runtime: { type: 'string', default: 'process' },
        'kind-name': { type: 'string', default: 'sscsi' },
        only: { type: 'string', multiple: true },
        junit: { type: 'string' },
        json: { type: 'string' },
        pods: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`sscsi scenarios run: ${(err as Error).message}\n${scenariosUsage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(scenariosUsage);
    return 0;
  }
  const unknown = (values.only ?? []).filter((n) => !allScenarios.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`sscsi scenarios run: unknown scenario ${unknown.join(', ')}\n${scenariosUsage}`);
    return 2;
  }
  const pods = values.pods === undefined ? undefined : Number(values.pods);
  if (pods !== undefined && !(Number.isInteger(pods) && pods > 0 && pods <= 5000)) {
    process.stderr.write(`sscsi scenarios run: --pods must be a whole number from 1 to 5000, got ${JSON.stringify(values.pods)}\n`);
    return 2;
  }
  if (values.target !== 'sim' && values.target !== 'kind') {
    process.stderr.write(`sscsi scenarios run: --target must be sim or kind, got ${JSON.stringify(values.target)}\n`);
    return 2;
  }
  const kindName = values['kind-name'];
  const runtime = values.runtime;
  if (runtime !== 'process' && runtime !== 'docker') {
    process.stderr.write(`sscsi scenarios run: --runtime must be process or docker, got ${JSON.stringify(runtime)}\n`);
    return 2;
  }
  let startCluster: (needs: ClusterNeeds) => Promise<Cluster>;
  let target: string;
  if (values.target === 'kind') {
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
    startCluster = (needs) =>
      new SimCluster({ runtime, ...(needs.driverArgs ? { driverArgs: needs.driverArgs } : {}), kubeletTimings: { backoffInitialMs: 500, backoffMaxMs: 4000, republishPeriodMs: 10_000, ...needs.kubeletTimings } }).start();
  }
  const selected = values.only ? allScenarios.filter((s) => values.only!.includes(s.name)) : allScenarios;
  const run = await runScenarios(selected, { target, pods, startCluster });
  process.stdout.write(`\n${formatTable(run)}\n`);
  await writeReports(run, { junit: values.junit, json: values.json });
  if (values.junit) process.stdout.write(`JUnit: ${values.junit}\n`);
  if (values.json) process.stdout.write(`JSON: ${values.json}\n`);
  return run.passed ? 0 : 1;
}
