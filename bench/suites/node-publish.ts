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
import { SPC_NAME, startPublishStack, type PublishTarget } from '../publish-stack.js';

const run = promisify(execFile);

interface NodePublishOptions {
  objects: number;
  objectBytes: number;
  /** Minimum samples per task, over all rounds. */
  iterations: number;
  /** Minimum time per task in ms, over all rounds (tinybench keeps going until both limits are met). */
  timeMs: number;
  /** Interleaved rounds the samples are spread over. */
  rounds: number;
  log: (line: string) => void;
}

export async function runNodePublishSuites(options: NodePublishOptions): Promise<SuiteResult[]> {
  const stack = await startPublishStack({ objects: options.objects, objectBytes: options.objectBytes });
  try {
    options.log(`node-publish: driver mount mode ${stack.mountMode}, ${options.objects} objects × ${options.objectBytes} B, ≥ ${options.iterations} iterations`);
    const label = `${options.objects}x${options.objectBytes >= 1024 ? `${options.objectBytes / 1024}KiB` : `${options.objectBytes}B`}`;
    // Interleaved rounds (bench/interleave.ts) so the floors and the calls they bound see the
    // same stretches of machine noise; one warm-up publish first.
    const rounds = options.rounds;
    const warm = await stack.newTarget();
    await stack.publish(warm);
    await stack.unpublish(warm);
    const bench = new Bench({ iterations: Math.ceil(options.iterations / rounds), time: options.timeMs / rounds, warmupTime: 0, warmupIterations: 2, throws: true, retainSamples: true });
    let current: PublishTarget | undefined;
    const publishName = `node-publish ${label}`;
    const unpublishName = `node-unpublish ${label}`;
    bench.add(publishName, async () => stack.publish(current!), {
      beforeEach: async () => {
        current = await stack.newTarget();
      },
      afterEach: async () => stack.unpublish(current!),
    });
    bench.add(unpublishName, async () => stack.unpublish(current!), {
      beforeEach: async () => {
        current = await stack.newTarget();
        await stack.publish(current);
      },
    });
    bench.add('floor csi-empty', async () => {
      await stack.csi.nodeGetInfo({});
    });
    const providers = new ProviderClients({ providerVolume: stack.providerDir, additionalProviderVolumePaths: [], maxCallRecvMsgSize: 4 << 20, maxInflight: 32, callTimeoutMs: 30_000, logger: createLogger({ name: 'bench', level: 'silent' }) });
    bench.add('floor provider-empty', async () => {
      await providers.version('fake', 30_000);
    });
    const apiSamples: number[] = [];
    const apiPath = `/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses/${SPC_NAME}`;
    const perRound = Math.max(20, Math.ceil(options.iterations / rounds));
    let rows;
    try {
      rows = await runInterleaved(bench, {
        rounds,
        beforeRound: async () => {
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
      const floor = row.name.startsWith('floor ');
      results.push({ ...row, rssMb: floor ? null : rss, floorRatio: null, ...(floor ? {} : { extra: { mountMode: stack.mountMode } }) });
    }
    results.push({ ...fromSamples('floor api-get', apiSamples), rssMb: null, floorRatio: null });
    const leftover = stack.api.store.list('secretproviderclasspodstatuses', 'default');
    options.log(`node-publish: ${leftover.length} SecretProviderClassPodStatus objects left (the API server collects those whose pod does not exist)`);
    return results;
  } finally {
    await stack.close();
  }
}
