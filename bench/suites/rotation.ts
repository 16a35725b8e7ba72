/**
 * The cost of one rotation pass of the driver-side poller over 100 mounted volumes, with
 * nothing changed and with 10% of the volumes' objects changed between passes. Each volume
 * mounts 10 objects of 1 KiB (9 shared, 1 of its own); a pass refetches every volume:
 * SecretProviderClass read, current versions from the pod status, provider Mount over its
 * socket, compare-and-write, pod status write when something changed. The driver runs in
 * this process (so the pass can be timed exactly); the fake provider is its own process.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CsiDriver } from '../../driver/csi-driver.js';
import { loadKubeConfig } from '../../driver/k8s/kube-config.js';
import { KubeSecretsStoreApi } from '../../driver/k8s/secrets-store-api.js';
import { selectMounter } from '../../driver/mount/select-mounter.js';
import { RotationPoller } from '../../driver/rotation/rotation-poller.js';
import { csiClient, kubeletPublishRequest } from '../../harness/csi-client.js';
import { type ManagedProcess, startFakeProviderBin } from '../../harness/managed-process.js';
import { makeTempRoot } from '../../harness/temp-root.js';
import { createLogger } from '../../log/logger.js';
import { SimApiServer } from '../../sim/apiserver/api-server.js';
import { fromSamples, type SuiteResult } from '../report.js';

interface RotationBenchOptions {
  volumes: number;
  passes: number;
  log: (line: string) => void;
}

export async function runRotationSuites(options: RotationBenchOptions): Promise<SuiteResult[]> {
  const tmp = await makeTempRoot('bench-rot');
  const root = tmp.path;
  const api = await new SimApiServer({ controlPlane: false }).start();
  let provider: ManagedProcess | undefined;
  let driver: Awaited<ReturnType<CsiDriver['start']>> | undefined;
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
      { mounter: await selectMounter('auto'), api: new KubeSecretsStoreApi(loadKubeConfig(join(root, 'kubeconfig'))), logger },
    ).start();
    const client = csiClient(driver.socketPath);
    for (let i = 0; i < options.volumes; i++) {
      api.store.create('secretproviderclasses', {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClass',
        metadata: { name: `spc-${i}`, namespace: 'default' },
        spec: { provider: 'fake', parameters: { objects: stringify([...shared, own[i]!].map((objectName) => ({ objectName }))) } },
      });
      const uid = randomUUID();
      const volumeDir = join(root, 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets');
      await mkdir(volumeDir, { recursive: true });
      await client.nodePublishVolume(kubeletPublishRequest({ targetPath: join(volumeDir, 'mount'), spc: `spc-${i}`, pod: { name: `pod-${i}`, namespace: 'default', uid } }));
    }
    client.close();
    options.log(`rotation: ${options.volumes} volumes × 10 objects of 1 KiB mounted (${driver.publisher.records.targets().length} records), ${options.passes} passes each`);
    const poller = new RotationPoller(driver.publisher, driver.publisher.records, 0, logger);
    const unchanged: number[] = [];
    for (let p = 0; p < options.passes; p++) {
      const t = performance.now();
      const n = await poller.pass();
      unchanged.push(performance.now() - t);
      if (n !== options.volumes) throw new Error(`a pass refetched ${n} volumes, expected ${options.volumes}`);
    }
    const changed: number[] = [];
    const tenth = Math.max(1, Math.round(options.volumes / 10));
    for (let p = 0; p < options.passes; p++) {
      for (let i = 0; i < tenth; i++) {
        await fetch(`${control}/objects/${own[(p * tenth + i) % options.volumes]}`, { method: 'PUT', body: JSON.stringify({ contentsBase64: randomBytes(1024).toString('base64') }) });
      }
      const t = performance.now();
      await poller.pass();
      changed.push(performance.now() - t);
    }
    const rotatedTotal = await driver.metrics.registry.getSingleMetric('rotation_reconcile_total')!.get();
    const rotated = rotatedTotal.values.find((v) => v.labels.rotated === 'true')?.value ?? 0;
    if (rotated !== tenth * options.passes) throw new Error(`expected ${tenth * options.passes} rotated volumes, the metrics say ${rotated}`);
    const rss = process.memoryUsage().rss / 2 ** 20;
    return [
      { ...fromSamples(`rotation pass ${options.volumes} volumes, none changed`, unchanged), rssMb: rss, floorRatio: null, extra: { perVolumeMs: unchanged.reduce((a, b) => a + b, 0) / unchanged.length / options.volumes } },
      { ...fromSamples(`rotation pass ${options.volumes} volumes, 10% changed`, changed), rssMb: rss, floorRatio: null, extra: { perVolumeMs: changed.reduce((a, b) => a + b, 0) / changed.length / options.volumes } },
    ];
  } finally {
    await driver?.stop(1000);
    await provider?.kill();
    await api.stop();
    await tmp.cleanup();
  }
}
