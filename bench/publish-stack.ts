/**
 * What the end-to-end benchmarks publish against: the embedded API server (in this process,
 * as a real HTTP server), the fake provider and the driver under test (ours unless told
 * otherwise, bench/driver-under-test.ts) as their own processes on real unix sockets, and a
 * SecretProviderClass naming `objects` objects of `objectBytes` bytes. The driver talks to
 * the API server as the DaemonSet's ServiceAccount would (RBAC enforced). Targets are laid
 * out as the kubelet lays them out.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../harness/csi-client.js';
import { rssBytes, type ManagedProcess, startFakeProviderBin } from '../harness/managed-process.js';
import { makeTempRoot } from '../harness/temp-root.js';
import { SimApiServer, type StartedSimApiServer } from '../sim/apiserver/api-server.js';
import { serviceAccountUser } from '../sim/apiserver/authorizer.js';
import { oursDriver, type DriverName, type DriverUnderTest } from './driver-under-test.js';
import { csiVolumeDir, targetPath } from '../cluster/kubelet-layout.js';

interface PublishStackOptions {
  objects: number;
  objectBytes: number;
  /** The driver to publish against; ours by default. */
  driver?: DriverUnderTest;
  /** Node options for the driver process (ours only), e.g. ['--inspect=127.0.0.1:0']. */
  driverNodeArgs?: string[];
  /** Fills the API server before the driver starts (e.g. a crowded cluster). */
  seed?: (api: StartedSimApiServer) => void;
}

export interface PublishTarget {
  uid: string;
  podName: string;
  targetPath: string;
}

export interface PublishStack {
  root: string;
  /** Which driver this stack runs. */
  driverName: DriverName;
  /** A kubeconfig for the embedded API server with full rights (for probes beside the driver). */
  kubeconfig: string;
  /** The directory of the fake provider's socket (`fake.sock`). */
  providerDir: string;
  api: StartedSimApiServer;
  csi: CsiClient;
  driver: ManagedProcess;
  provider: ManagedProcess;
  mountMode: string;
  /** Makes the pod's volume directory as the kubelet does and returns the target. */
  newTarget(): Promise<PublishTarget>;
  publish(target: PublishTarget): Promise<void>;
  /**
   * NodeUnpublishVolume, tried again (up to 3 times, 50 ms apart) after a failure as the
   * kubelet retries it: upstream's driver sometimes fails concurrent unmounts with "target
   * is busy" and succeeds on the next call. Counted in `unpublishRetries`.
   */
  unpublish(target: PublishTarget): Promise<void>;
  /** How many unpublish calls failed and were tried again. */
  unpublishRetries(): number;
  driverRssMb(): Promise<number | null>;
  close(): Promise<void>;
}

export const SPC_NAME = 'bench-secrets';

export async function startPublishStack(options: PublishStackOptions): Promise<PublishStack> {
  const tmp = await makeTempRoot('bench');
  const root = tmp.path;
  const procs: ManagedProcess[] = [];
  const api = await new SimApiServer().start();
  let csi: CsiClient | undefined;
  const close = async () => {
    csi?.close();
    for (const p of procs.reverse()) await p.kill();
    await api.stop();
    await tmp.cleanup();
  };
  try {
    const providerDir = join(root, 'providers');
    await mkdir(providerDir, { recursive: true });
    const names = Array.from({ length: options.objects }, (_, i) => `secret-${String(i).padStart(3, '0')}`);
    const storeFile = join(root, 'store.yaml');
    await writeFile(storeFile, stringify({ objects: names.map((name) => ({ name, version: 'v1', contentsBase64: randomBytes(options.objectBytes).toString('base64') })) }));
    const kubeconfig = join(root, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);

    const { proc: provider } = await startFakeProviderBin({ name: 'fake', socket: join(providerDir, 'fake.sock'), store: storeFile });
    procs.push(provider);

    const driverKubeconfig = join(root, 'driver-kubeconfig');
    const driverToken = api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver'));
    await api.writeKubeconfig(driverKubeconfig, { token: driverToken, user: 'secrets-store-csi-driver' });

    options.seed?.(api);
    const endpoint = join(root, 'plugins', 'csi-secrets-store', 'csi.sock');
    const under = options.driver ?? oursDriver;
    const { proc: driver, mountMode } = await under.start(
      { socket: endpoint, nodeId: 'bench-node', providerDir, additionalProviderDir: providerDir, metricsAddr: '127.0.0.1:0', kubeconfig: driverKubeconfig },
      { nodeArgs: options.driverNodeArgs ?? [] },
    );
    procs.push(driver);

    api.store.create('secretproviderclasses', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: SPC_NAME, namespace: 'default' },
      spec: { provider: 'fake', parameters: { objects: stringify(names.map((objectName) => ({ objectName }))) } },
    });
    csi = csiClient(endpoint);
    const client = csi;
    let seq = 0;
    let retries = 0;
    return {
      root,
      driverName: under.name,
      kubeconfig,
      providerDir,
      api,
      csi: client,
      driver,
      provider,
      mountMode,
      async newTarget() {
        const uid = randomUUID();
        await mkdir(csiVolumeDir(root, uid, 'secrets'), { recursive: true });
        return { uid, podName: `bench-${seq++}`, targetPath: targetPath(root, uid, 'secrets') };
      },
      async publish(t) {
        await client.nodePublishVolume(kubeletPublishRequest({ targetPath: t.targetPath, spc: SPC_NAME, pod: { name: t.podName, namespace: 'default', uid: t.uid } }));
      },
      async unpublish(t) {
        for (let attempt = 1; ; attempt++) {
          try {
            await client.nodeUnpublishVolume({ volume_id: `csi-${t.uid}-secrets`, target_path: t.targetPath });
            return;
          } catch (err) {
            if (attempt >= 4) throw err;
            retries++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      },
      unpublishRetries: () => retries,
      async driverRssMb() {
        const rss = driver.child.pid === undefined ? undefined : await rssBytes(driver.child.pid);
        return rss === undefined ? null : rss / 2 ** 20;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
