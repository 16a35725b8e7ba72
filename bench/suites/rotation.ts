/**
 * The cost of one rotation pass of the driver-side poller over 100 mounted volumes, with
 * nothing changed and with 10% of the volumes' objects changed between passes, and (given
 * `largeVolumes`) over that many, nothing changed. The poller refetches concurrently, at most
 * the provider's in-flight bound at once: every pass resets the fake provider's peak of
 * concurrent Mount calls first and reads it after (its control API), each row reports the
 * highest (`extra.providerPeakInflight`), and a pass that went past the bound fails the
 * run. Each volume
 * mounts 10 objects of 1 KiB (9 shared, 1 of its own); a pass refetches every volume:
 * SecretProviderClass read, current versions from the pod status, provider Mount over its
 * socket, compare-and-write, pod status write when something changed. The driver runs in
 * this process (so the pass can be timed exactly); the fake provider is its own process.
 *
 * `rotation republish` rows time the other way a volume rotates, the only one upstream's
 * driver has: the kubelet's republish (`requiresRepublish`), i.e. NodePublishVolume again
 * on every mounted volume, one after another as our poller goes. With `--compare upstream`
 * they are measured for our driver (the same in-process driver, over its CSI socket) and
 * for upstream's (its own process, rotation on with a zero interval so every republish
 * refetches), each over its own volumes of the same SecretProviderClasses, served by the
 * same provider and API server, passes alternating between the two. After every pass with
 * changes, each changed volume's file must hold the new contents.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CsiDriver } from '../../driver/csi-driver.js';
import { KubeClient } from '../../driver/k8s/kube-client.js';
import { loadKubeConfig } from '../../driver/k8s/kube-config.js';
import { KubeSecretsStoreApi } from '../../driver/k8s/secrets-store-api.js';
import { selectMounter } from '../../driver/mount/select-mounter.js';
import { ManualClock } from '../../harness/manual-clock.js';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../../harness/csi-client.js';
import { type ManagedProcess, rssBytes, startFakeProviderBin } from '../../harness/managed-process.js';
import type { NodePublishVolumeRequest } from '../../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import type { DriverName, DriverUnderTest } from '../driver-under-test.js';
import { makeTempRoot } from '../../harness/temp-root.js';
import { createLogger } from '../../log/logger.js';
import { SimApiServer } from '../../sim/apiserver/api-server.js';
import { fromSamples, type SuiteResult } from '../report.js';
import { csiVolumeDir, targetPath } from '../../cluster/kubelet-layout.js';

interface RotationBenchOptions {
  volumes: number;
  passes: number;
  /** Also time passes over this many volumes (more than `volumes`), nothing changed. */
  largeVolumes?: number;
  /** Drivers to time the kubelet's republish against besides ours (`--compare upstream`); none: no republish rows. */
  others?: DriverUnderTest[];
  log: (line: string) => void;
}

/** A driver whose volumes are rotated by republishing them. */
interface Republisher {
  driver: DriverName;
  client: CsiClient;
  requests: NodePublishVolumeRequest[];
  /** The driver's RSS in MiB if it is its own process. */
  rssMb(): Promise<number | null>;
  unchanged: number[];
  changed: number[];
}

/** The driver's bound on Mount calls in flight per provider here, which the poller's passes must keep to. */
const providerMaxInflight = 32;

/** Mounts volumes `from`..`volumes`-1 (`spc-i` each) through `client` under `dir`, a few at once; returns the requests to republish them with. */
async function mountVolumes(client: CsiClient, dir: string, volumes: number, from = 0): Promise<NodePublishVolumeRequest[]> {
  const requests: NodePublishVolumeRequest[] = [];
  const indexes = Array.from({ length: volumes - from }, (_, k) => from + k);
  const mountOne = async (i: number) => {
    const uid = randomUUID();
    await mkdir(csiVolumeDir(dir, uid, 'secrets'), { recursive: true });
    const req = kubeletPublishRequest({ targetPath: targetPath(dir, uid, 'secrets'), spc: `spc-${i}`, pod: { name: `pod-${i}`, namespace: 'default', uid } });
    await client.nodePublishVolume(req);
    requests[i - from] = req;
  };
  for (let k = 0; k < indexes.length; k += 8) await Promise.all(indexes.slice(k, k + 8).map(mountOne));
  return requests;
}

/** One republish pass: NodePublishVolume again on every volume, one after another; ms. */
async function republishPass(r: Republisher): Promise<number> {
  const t = performance.now();
  for (const req of r.requests) await r.client.nodePublishVolume(req);
  return performance.now() - t;
}

export async function runRotationSuites(options: RotationBenchOptions): Promise<SuiteResult[]> {
  const tmp = await makeTempRoot('bench-rot');
  const root = tmp.path;
  const api = await new SimApiServer({ controlPlane: false }).start();
  let provider: ManagedProcess | undefined;
  let driver: Awaited<ReturnType<CsiDriver['start']>> | undefined;
  const others: ManagedProcess[] = [];
  const clients: CsiClient[] = [];
  const republishers: Republisher[] = [];
  try {
    const providerDir = join(root, 'providers');
    await mkdir(providerDir, { recursive: true });
    const shared = Array.from({ length: 9 }, (_, i) => `shared-${i}`);
    const all = Math.max(options.volumes, options.largeVolumes ?? 0);
    const own = Array.from({ length: all }, (_, i) => `own-${i}`);
    const object = (name: string) => ({ name, version: '1', contentsBase64: randomBytes(1024).toString('base64') });
    await writeFile(join(root, 'store.yaml'), stringify({ objects: [...shared, ...own].map(object) }));
    let control;
    ({ proc: provider, control } = await startFakeProviderBin({ name: 'fake', socket: join(providerDir, 'fake.sock'), store: join(root, 'store.yaml'), control: true }));
    await api.writeKubeconfig(join(root, 'kubeconfig'));
    const logger = createLogger({ name: 'bench-driver', level: 'warn' });
    // The benchmark runs the poller's passes itself: on a clock that stands still, the
    // poller's own timer never fires.
    const clock = new ManualClock();
    driver = await new CsiDriver(
      {
        endpoint: `unix://${join(root, 'csi.sock')}`,
        driverName: 'secrets-store.csi.k8s.io',
        nodeId: 'bench-node',
        providerVolume: providerDir,
        additionalProviderVolumePaths: [],
        enableSecretRotation: true,
        rotationPollIntervalMs: 0,
        maxCallRecvMsgSize: 4 * 1024 * 1024,
        providerMaxInflight,
        providerTimeoutMs: 30_000,
      },
      { mounter: await selectMounter('auto'), api: new KubeSecretsStoreApi(new KubeClient(loadKubeConfig(join(root, 'kubeconfig')))), logger, clock },
    ).start();
    for (let i = 0; i < all; i++) {
      api.store.create('secretproviderclasses', {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClass',
        metadata: { name: `spc-${i}`, namespace: 'default' },
        spec: { provider: 'fake', parameters: { objects: stringify([...shared, own[i]!].map((objectName) => ({ objectName }))) } },
      });
    }
    const client = csiClient(driver.socketPath);
    clients.push(client);
    const ourRequests = await mountVolumes(client, root, options.volumes);
    if (options.others?.length) {
      republishers.push({ driver: 'ours', client, requests: ourRequests, rssMb: async () => null, unchanged: [], changed: [] });
      const token = api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver'));
      for (const other of options.others) {
        const dir = join(root, other.name);
        const kubeconfig = join(dir, 'kubeconfig');
        await mkdir(dir, { recursive: true });
        await api.writeKubeconfig(kubeconfig, { token, user: 'secrets-store-csi-driver' });
        const socket = join(dir, 'plugins', 'csi.sock');
        const { proc } = await other.start({ socket, nodeId: 'bench-node', providerDir, additionalProviderDir: providerDir, metricsAddr: '127.0.0.1:0', kubeconfig }, { rotation: true });
        others.push(proc);
        const otherClient = csiClient(socket);
        clients.push(otherClient);
        const pid = proc.child.pid!;
        republishers.push({
          driver: other.name,
          client: otherClient,
          requests: await mountVolumes(otherClient, dir, options.volumes),
          rssMb: async () => ((await rssBytes(pid)) ?? 0) / 2 ** 20,
          unchanged: [],
          changed: [],
        });
      }
    }
    const otherNames = republishers.filter((r) => r.driver !== 'ours').map((r) => r.driver);
    options.log(`rotation: ${options.volumes} volumes × 10 objects of 1 KiB mounted (${driver.publisher.records.targets().length} records${otherNames.length ? `; as many of its own for ${otherNames.join(', ')}` : ''}), ${options.passes} passes each`);
    /** The republish passes, in an order that alternates with `p`. */
    const republishAll = async (p: number, into: 'unchanged' | 'changed') => {
      for (const r of p % 2 === 0 ? republishers : [...republishers].reverse()) r[into].push(await republishPass(r));
    };
    const poller = driver.poller!;
    const providerState = async () => (await (await fetch(`${control}/state`)).json()) as { maxInflight: number };
    /** One timed pass of the poller over `volumes` volumes; records the provider's peak of Mount calls in flight. */
    const timedPass = async (volumes: number, peaks: number[]): Promise<number> => {
      await fetch(`${control}/state/max-inflight`, { method: 'DELETE' });
      const t = performance.now();
      const n = await poller.pass();
      const ms = performance.now() - t;
      const { maxInflight } = await providerState();
      if (n !== volumes) throw new Error(`a pass refetched ${n} volumes, expected ${volumes}`);
      if (maxInflight > providerMaxInflight) throw new Error(`a pass had ${maxInflight} Mount calls in flight at once at the provider, above the driver's bound of ${providerMaxInflight}`);
      peaks.push(maxInflight);
      return ms;
    };
    const peaks = { unchanged: [] as number[], changed: [] as number[], large: [] as number[] };
    const unchanged: number[] = [];
    for (let p = 0; p < options.passes; p++) {
      unchanged.push(await timedPass(options.volumes, peaks.unchanged));
      await republishAll(p, 'unchanged');
    }
    const changed: number[] = [];
    const tenth = Math.max(1, Math.round(options.volumes / 10));
    let changes = 0;
    /** Changes the own objects of the next tenth of the volumes; returns their indexes and new contents. */
    const changeTenth = async () => {
      const changedNow: Array<{ index: number; contents: Buffer }> = [];
      for (let i = 0; i < tenth; i++) {
        const index = changes++ % options.volumes;
        const contents = randomBytes(1024);
        await fetch(`${control}/objects/${own[index]}`, { method: 'PUT', body: JSON.stringify({ contentsBase64: contents.toString('base64') }) });
        changedNow.push({ index, contents });
      }
      return changedNow;
    };
    for (let p = 0; p < options.passes; p++) {
      await changeTenth();
      changed.push(await timedPass(options.volumes, peaks.changed));
      if (republishers.length === 0) continue;
      const changedNow = await changeTenth();
      await republishAll(p, 'changed');
      for (const r of republishers) {
        for (const { index, contents } of changedNow) {
          const file = join(r.requests[index]!.target_path!, own[index]!);
          if (!(await readFile(file)).equals(contents)) throw new Error(`${r.driver}: a republish pass left the old contents in ${file}`);
        }
      }
    }
    const large: number[] = [];
    if (options.largeVolumes && options.largeVolumes > options.volumes) {
      await mountVolumes(client, root, options.largeVolumes, options.volumes);
      options.log(`rotation: ${options.largeVolumes} volumes mounted, ${options.passes} passes`);
      for (let p = 0; p < options.passes; p++) large.push(await timedPass(options.largeVolumes, peaks.large));
    }
    const rotatedTotal = await driver.metrics.registry.getSingleMetric('rotation_reconcile_total')!.get();
    const rotated = rotatedTotal.values.find((v) => v.labels.rotated === 'true')?.value ?? 0;
    const expected = tenth * options.passes * (republishers.length > 0 ? 2 : 1);
    if (rotated !== expected) throw new Error(`expected ${expected} rotated volumes, the metrics say ${rotated}`);
    const rss = process.memoryUsage().rss / 2 ** 20;
    const perVolumeMs = (passes: number[], volumes = options.volumes) => passes.reduce((a, b) => a + b, 0) / passes.length / volumes;
    const how = `our driver-side poller, one pass (at most ${providerMaxInflight} refetches in flight, the provider's bound)`;
    const poll = (name: string, samples: number[], peak: number[], volumes = options.volumes): SuiteResult => ({
      ...fromSamples(name, samples),
      rssMb: rss,
      floorRatio: null,
      extra: { perVolumeMs: perVolumeMs(samples, volumes), providerPeakInflight: Math.max(...peak), providerMaxInflight, how },
    });
    const rows: SuiteResult[] = [
      poll(`rotation pass ${options.volumes} volumes, none changed`, unchanged, peaks.unchanged),
      poll(`rotation pass ${options.volumes} volumes, 10% changed`, changed, peaks.changed),
      ...(large.length ? [poll(`rotation pass ${options.largeVolumes} volumes, none changed`, large, peaks.large, options.largeVolumes)] : []),
    ];
    for (const [key, label] of [['unchanged', 'none changed'], ['changed', '10% changed']] as const) {
      for (const r of republishers) {
        rows.push({
          ...fromSamples(`rotation republish ${options.volumes} volumes, ${label}`, r[key]),
          ...(r.driver === 'ours' ? {} : { driver: r.driver }),
          rssMb: await r.rssMb(),
          floorRatio: null,
          extra: {
            perVolumeMs: perVolumeMs(r[key]),
            how: 'NodePublishVolume again on every mounted volume, one after another (the kubelet republish)',
            ...(r.driver === 'ours' ? { rss: 'not measured: our driver runs in the benchmark process here' } : {}),
          },
        });
      }
    }
    return rows;
  } finally {
    for (const c of clients) c.close();
    for (const p of others) await p.kill();
    await driver?.stop(1000);
    await provider?.kill();
    await api.stop();
    await tmp.cleanup();
  }
}
