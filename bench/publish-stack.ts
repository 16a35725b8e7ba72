/**
 * What the end-to-end benchmarks publish against: the embedded API server (in this process,
 * as a real HTTP server), the fake provider and the driver as their own processes on real
 * unix sockets, and a SecretProviderClass naming `objects` objects of `objectBytes` bytes.
 * Targets are laid out as the kubelet lays them out.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../harness/csi-client.js';
import { rssBytes, startBin, type ManagedProcess, startFakeProviderBin } from '../harness/managed-process.js';
import { makeTempRoot } from '../harness/temp-root.js';
import { SimApiServer, type StartedSimApiServer } from '../sim/apiserver/api-server.js';
import { driverFlags } from '../harness/driver-flags.js';

interface PublishStackOptions {
  objects: number;
  objectBytes: number;
  /** Extra driver flags. */
  driverArgs?: string[];
  /** Node options for the driver process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  driverNodeArgs?: string[];
}

export interface PublishTarget {
  uid: string;
  podName: string;
  targetPath: string;
}

interface PublishStack {
  root: string;
  /** The kubeconfig the driver uses (the embedded API server's). */
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
  unpublish(target: PublishTarget): Promise<void>;
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

    const endpoint = join(root, 'plugins', 'csi-secrets-store', 'csi.sock');
    const driver = startBin(
      'driver/main.js',
      [...driverFlags({ socket: endpoint, nodeId: 'bench-node', providerDir, metricsAddr: '127.0.0.1:0', kubeconfig }), '--log-format-json', ...(options.driverArgs ?? [])],
      { nodeArgs: options.driverNodeArgs ?? [], keepChars: 64 * 1024 },
    );
    procs.push(driver);
    const serving = JSON.parse(await driver.waitForLine(/CSI driver serving/)) as { mountMode: string };

    api.store.create('secretproviderclasses', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: SPC_NAME, namespace: 'default' },
      spec: { provider: 'fake', parameters: { objects: stringify(names.map((objectName) => ({ objectName }))) } },
    });
    csi = csiClient(endpoint);
    const client = csi;
    let seq = 0;
    return {
      root,
      kubeconfig,
      providerDir,
      api,
      csi: client,
      driver,
      provider,
      mountMode: serving.mountMode,
      async newTarget() {
        const uid = randomUUID();
        const volumeDir = join(root, 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets');
        await mkdir(volumeDir, { recursive: true });
        return { uid, podName: `bench-${seq++}`, targetPath: join(volumeDir, 'mount') };
      },
      async publish(t) {
        await client.nodePublishVolume(kubeletPublishRequest({ targetPath: t.targetPath, spc: SPC_NAME, pod: { name: t.podName, namespace: 'default', uid: t.uid } }));
      },
      async unpublish(t) {
        await client.nodeUnpublishVolume({ volume_id: `csi-${t.uid}-secrets`, target_path: t.targetPath });
      },
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
