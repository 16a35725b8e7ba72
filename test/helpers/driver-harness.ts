/**
 * The driver as the kubelet meets it, in the test process: the real CsiDriver on a real
 * unix socket, the real mounter (tmpfs as root), the real Kubernetes client against the
 * embedded API server, and an in-process fake provider on its own socket. Everything the
 * driver logs is kept so tests can check it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Clock } from '../../driver/clock.js';
import { CsiDriver, type DriverConfig, type StartedCsiDriver } from '../../driver/csi-driver.js';
import { KubeClient } from '../../driver/k8s/kube-client.js';
import { loadKubeConfig } from '../../driver/k8s/kube-config.js';
import { KubeSecretsStoreApi } from '../../driver/k8s/secrets-store-api.js';
import { selectMounter } from '../../driver/mount/select-mounter.js';
import { createLogger } from '../../log/logger.js';
import { startFakeProvider, type StartedFakeProvider } from '../../fake-providers/fake-provider.js';
import type { ObjectInput } from '../../fake-providers/store.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { csiClient, type CsiClient } from '../../harness/csi-client.js';
import { makeTempRoot, type TempRoot } from './temp-root.js';
import { targetPath } from '../../cluster/kubelet-layout.js';

export interface Harness {
  tmp: TempRoot;
  api: StartedSimApiServer;
  provider: StartedFakeProvider;
  driver: StartedCsiDriver;
  client: CsiClient;
  providerDir: string;
  /** Everything the driver and provider logged so far. */
  logs(): string;
  /** A fresh kubelet-style target path for pod `uid`. */
  target(uid: string, volume?: string): string;
  /** Creates a v1 SecretProviderClass. */
  createSpc(namespace: string, name: string, spec: Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function startHarness(options: { objects?: ObjectInput[]; driver?: Partial<DriverConfig>; clock?: Clock } = {}): Promise<Harness> {
  const tmp = await makeTempRoot('harness');
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ name: 'test-driver', level: 'debug', destination: sink });
  const api = await new SimApiServer().start();
  const kubeconfig = join(tmp.path, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  const providerDir = join(tmp.path, 'providers');
  await mkdir(providerDir);
  const provider = await startFakeProvider({
    name: 'fake',
    socket: join(providerDir, 'fake.sock'),
    controlAddr: '127.0.0.1:0',
    logger,
    ...(options.objects ? { objects: options.objects } : {}),
  });
  const config: DriverConfig = {
    endpoint: `unix://${join(tmp.path, 'csi', 'csi.sock')}`,
    driverName: 'secrets-store.csi.k8s.io',
    nodeId: 'node-1',
    providerVolume: providerDir,
    additionalProviderVolumePaths: [join(tmp.path, 'etc-providers')],
    enableSecretRotation: false,
    rotationPollIntervalMs: 120_000,
    maxCallRecvMsgSize: 4 * 1024 * 1024,
    providerMaxInflight: 32,
    providerTimeoutMs: 30_000,
    ...options.driver,
  };
  const driver = await new CsiDriver(config, {
    mounter: await selectMounter('auto'),
    api: new KubeSecretsStoreApi(new KubeClient(loadKubeConfig(kubeconfig))),
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  }).start();
  const client = csiClient(driver.socketPath);
  return {
    tmp,
    api,
    provider,
    driver,
    client,
    providerDir,
    logs: () => logText,
    target: (uid, volume = 'secrets') => targetPath(tmp.path, uid, volume),
    createSpc(namespace, name, spec) {
      api.store.create('secretproviderclasses', {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClass',
        metadata: { name, namespace },
        spec,
      });
    },
    async close() {
      client.close();
      await driver.stop(1000);
      await provider.close();
      await api.stop();
      await tmp.cleanup();
    },
  };
}
