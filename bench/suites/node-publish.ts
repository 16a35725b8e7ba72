/**
 * NodePublishVolume and NodeUnpublishVolume end to end over the CSI socket, as the kubelet
 * calls them: SPC read and SPCPS create against the embedded API server, provider Mount
 * over its socket, tmpfs mount (as root) and the atomic write. Each publish goes to a new
 * pod's target; the unpublish that cleans it up runs outside the timed window (and the
 * other way round for the unpublish suite).
 *
 * Its floors, measured against the same processes: an empty CSI call on the driver's
 * socket (`floor csi-empty`, NodeGetInfo), an empty provider call on the provider's socket
 * (`floor provider-empty`, Version) and a bare keep-alive HTTPS GET of the SPC from another
 * process (`floor api-get`, bench/http-floor-probe.ts). A publish is at least one of each
 * call, two API requests (SPC read, SPCPS create), a mount and the raw write of its files
 * (groups.ts combines them).
 *
 * Given upstream's driver too (`--compare upstream`), its stack runs beside ours and its
 * publish and unpublish tasks join the same interleaved rounds; its rows carry
 * `driver: 'upstream'` and no floors (those are measured against our processes).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Bench } from 'tinybench';
import { ProviderClients } from '../../driver/provider/provider-client.js';
import { root } from '../../harness/managed-process.js';
import { createLogger } from '../../log/logger.js';
import { runInterleaved } from '../interleave.js';
import { fromSamples, type SuiteResult } from '../report.js';
import { oursDriver, type DriverUnderTest } from '../driver-under-test.js';
import { floors, isFloor, nodePublishName, nodeUnpublishName, sizeLabel } from '../suite-names.js';
import { SPC_NAME, startPublishStack, type PublishStack, type PublishTarget } from '../publish-stack.js';

const run = promisify(execFile);

interface NodePublishOptions {
  objects: number;
  objectBytes: number;
  /** Minimum samples per task, over all rounds. */
  iterations: number;
  /** Minimum time per task in ms, over all rounds (tinybench keeps going until both limits are met). */
  timeMs: number;
  /**
   * Interleaved rounds the samples are spread over. Many short rounds (a few calls of each
   * task each) compare two drivers almost call by call (bench:check --against); then each
   * round starts without warm-up calls, and the API floor is probed in ten of them.
   */
  rounds: number;
  /** Besides ours, e.g. upstream's driver (`--compare upstream`). */
  others?: DriverUnderTest[];
  log: (line: string) => void;
}

/** Adds the publish and unpublish tasks against `stack`, named `prefix` + the suite's name. */
function addPublishTasks(bench: Bench, stack: PublishStack, prefix: string, publishName: string, unpublishName: string): void {
  let current: PublishTarget | undefined;
  bench.add(`${prefix}${publishName}`, async () => stack.publish(current!), {
    beforeEach: async () => {
      current = await stack.newTarget();
    },
    afterEach: async () => stack.unpublish(current!),
  });
  bench.add(`${prefix}${unpublishName}`, async () => stack.unpublish(current!), {
    beforeEach: async () => {
      current = await stack.newTarget();
      await stack.publish(current);
    },
  });
}

export async function runNodePublishSuites(options: NodePublishOptions): Promise<SuiteResult[]> {
  const stacks: PublishStack[] = [];
  try {
    for (const driver of [oursDriver, ...(options.others ?? [])]) stacks.push(await startPublishStack({ objects: options.objects, objectBytes: options.objectBytes, driver }));
    const stack = stacks[0]!;
    options.log(`node-publish: ${stacks.map((s) => `${s.driverName} driver mount mode ${s.mountMode}`).join(', ')}; ${options.objects} objects × ${options.objectBytes} B, ≥ ${options.iterations} iterations`);
    const label = sizeLabel(options.objects, options.objectBytes);
    // Interleaved rounds (bench/interleave.ts) so the floors and the calls they bound (and the
    // other drivers' calls) see the same stretches of machine noise; one warm-up publish first.
    const rounds = options.rounds;
    for (const s of stacks) {
      const warm = await s.newTarget();
      await s.publish(warm);
      await s.unpublish(warm);
    }
    const publishName = nodePublishName(label);
    const unpublishName = nodeUnpublishName(label);
    const prefixOf = (s: PublishStack) => (s === stack ? '' : `${s.driverName}: `);
    const providers = new ProviderClients({ providerVolume: stack.providerDir, additionalProviderVolumePaths: [], maxCallRecvMsgSize: 4 << 20, maxInflight: 32, callTimeoutMs: 30_000, logger: createLogger({ name: 'bench', level: 'silent' }) });
    /** The tasks, the drivers' in `order`, then the floors. */
    const makeBench = (order: PublishStack[]) => {
      const bench = new Bench({ iterations: Math.ceil(options.iterations / rounds), time: options.timeMs / rounds, warmupTime: 0, warmupIterations: rounds > 20 ? 0 : 2, throws: true, retainSamples: true });
      for (const s of order) addPublishTasks(bench, s, prefixOf(s), publishName, unpublishName);
      bench.add(floors.csiEmpty, async () => {
        await stack.csi.nodeGetInfo({});
      });
      bench.add(floors.providerEmpty, async () => {
        await providers.version('fake', 30_000);
      });
      return bench;
    };
    // With other drivers, every other round runs them in the reverse order: none always first.
    const benches = stacks.length > 1 ? [makeBench(stacks), makeBench([...stacks].reverse())] : [makeBench(stacks)];
    const apiSamples: number[] = [];
    const apiPath = `/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses/${SPC_NAME}`;
    const probeEvery = Math.max(1, Math.floor(rounds / 10));
    const perRound = Math.max(20, Math.ceil(options.iterations / Math.ceil(rounds / probeEvery)));
    let round = 0;
    let rows;
    try {
      rows = await runInterleaved(benches, {
        rounds,
        beforeRound: async () => {
          if (round++ % probeEvery !== 0) return;
          const probe = await run(process.execPath, [join(root, 'dist/bench/http-floor-probe.js'), stack.kubeconfig, apiPath, String(perRound)]);
          apiSamples.push(...(JSON.parse(probe.stdout) as { samplesMs: number[] }).samplesMs);
        },
      });
    } finally {
      providers.close();
    }
    const results: SuiteResult[] = [];
    const rss = await stack.driverRssMb();
    for (const row of rows.values()) {
      if (stacks.some((s) => s !== stack && row.name.startsWith(prefixOf(s)))) continue;
      const floor = isFloor(row.name);
      results.push({ ...row, rssMb: floor ? null : rss, floorRatio: null, ...(floor ? {} : { extra: { mountMode: stack.mountMode } }) });
    }
    results.push({ ...fromSamples(floors.apiGet, apiSamples), rssMb: null, floorRatio: null });
    for (const other of stacks.slice(1)) {
      const otherRss = await other.driverRssMb();
      for (const name of [publishName, unpublishName]) {
        const row = rows.get(`${prefixOf(other)}${name}`)!;
        results.push({ ...row, name, driver: other.driverName, rssMb: otherRss, floorRatio: null, extra: { mountMode: other.mountMode } });
      }
    }
    for (const s of stacks) {
      const leftover = s.api.store.list('secretproviderclasspodstatuses', 'default');
      options.log(`node-publish: ${s.driverName}: ${leftover.length} SecretProviderClassPodStatus objects left (the API server collects those whose pod does not exist)`);
    }
    return results;
  } finally {
    for (const s of stacks.reverse()) await s.close();
  }
}
