/**
 * The cost of one rotation pass of the driver-side poller over 100 mounted volumes, with
 * nothing changed and with 10% of the volumes' objects changed between passes. Each volume
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
import { RotationPoller } from '../../driver/rotation/rotation-poller.js';
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

/** Mounts `volumes` volumes (`spc-i` each) through `client` under `dir`; returns the requests to republish them with. */
async function mountVolumes(client: CsiClient, dir: string, volumes: number): Promise<NodePublishVolumeRequest[]> {
  const requests: NodePublishVolumeRequest[] = [];
  for (let i = 0; i < volumes; i++) {
    const uid = randomUUID();
    await mkdir(csiVolumeDir(dir, uid, 'secrets'), { recursive: true });
    const req = kubeletPublishRequest({ targetPath: targetPath(dir, uid, 'secrets'), spc: `spc-${i}`, pod: { name: `pod-${i}`, namespace: 'default', uid } });
    await client.nodePublishVolume(req);
    requests.push(req);
  }
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
    const own = Array.from({ length: options.volumes }, (_, i) => `own-${i}`);
    const object = (name: string) => ({ name, version: '1', contentsBase64: randomBytes(1024).toString('base64') });
    await writeFile(join(root, 'store.yaml'), stringify({ objects: [...shared, ...own].map(object) }));
    let control;
    ({ proc: provider, control } = await startFakeProviderBin({ name: 'fake', socket: join(providerDir, 'fake.sock'), store: join(root, 'store.yaml'), control: true }));
    await api.writeKubeconfig(join(root, 'kubeconfig'));
    const logger = createLogger({ name: 'bench-driver', level: 'warn' });
    driver = await new CsiDriver(
      {
        endpoint: `unix://${join(root, 'csi.sock')}`,
        driverName: 'secrets-store.csi.k8s.io',
        nodeId: 'bench-node',
        providerVolume: providerDir,
        additionalProviderVolumePaths: [],
        enableSecretRotation: true,
        rotationPollIntervalMs: 0,
        rotationPoller: false,
        maxCallRecvMsgSize: 4 * 1024 * 1024,
        providerMaxInflight: 32,
        providerTimeoutMs: 30_000,
      },
      { mounter: await selectMounter('auto'), api: new KubeSecretsStoreApi(new KubeClient(loadKubeConfig(join(root, 'kubeconfig')))), logger },
    ).start();
    for (let i = 0; i < options.volumes; i++) {
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
    const poller = new RotationPoller(driver.publisher, driver.publisher.records, 0, logger);
    const unchanged: number[] = [];
    for (let p = 0; p < options.passes; p++) {
      const t = performance.now();
      const n = await poller.pass();
      unchanged.push(performance.now() - t);
      if (n !== options.volumes) throw new Error(`a pass refetched ${n} volumes, expected ${options.volumes}`);
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
      const t = performance.now();
      await poller.pass();
      changed.push(performance.now() - t);
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
    const rotatedTotal = await driver.metrics.registry.getSingleMetric('rotation_reconcile_total')!.get();
    const rotated = rotatedTotal.values.find((v) => v.labels.rotated === 'true')?.value ?? 0;
    const expected = tenth * options.passes * (republishers.length > 0 ? 2 : 1);
    if (rotated !== expected) throw new Error(`expected ${expected} rotated volumes, the metrics say ${rotated}`);
    const rss = process.memoryUsage().rss / 2 ** 20;
    const perVolumeMs = (passes: number[]) => passes.reduce((a, b) => a + b, 0) / passes.length / options.volumes;
    const rows: SuiteResult[] = [
      { ...fromSamples(`rotation pass ${options.volumes} volumes, none changed`, unchanged), rssMb: rss, floorRatio: null, extra: { perVolumeMs: perVolumeMs(unchanged), how: 'our driver-side poller, one pass' } },
      { ...fromSamples(`rotation pass ${options.volumes} volumes, 10% changed`, changed), rssMb: rss, floorRatio: null, extra: { perVolumeMs: perVolumeMs(changed), how: 'our driver-side poller, one pass' } },
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
