/**
 * The world the driver conformance kit gives the driver under test: the embedded API server
 * (the driver's ServiceAccount identity, RBAC enforced), a fake provider whose faults the
 * checks set directly, a trap provider a path trick in spec.provider would reach, and the
 * kubelet's pods directory. Secret values are random per run, so finding one in the
 * driver's output can only mean the driver leaked it.
 *
 *   <root>/driver-kubeconfig        the driver's identity
 *   <root>/providers/conformance.sock
 *   <root>/trap.sock                what "../trap" resolves to from the providers dir
 *   <root>/kubelet/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startFakeProvider, type StartedFakeProvider } from '../../fake-providers/fake-provider.js';
import { unmountAllUnder } from '../../driver/mount/tmpfs-mounter.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { issueToken } from '../../sim/kubelet/service-account-token.js';

export const providerName = 'conformance';
export const namespace = 'conformance';
export const otherNamespace = 'conformance-other';

/** The provider's objects: name, random contents, and the mode the SPC asks for (if any). */
export interface KitObject {
  name: string;
  fileName: string;
  contents: string;
  mode?: number;
}

export interface DriverEnv {
  root: string;
  api: StartedSimApiServer;
  driverKubeconfig: string;
  providerDir: string;
  provider: StartedFakeProvider;
  trap: StartedFakeProvider;
  kubeletRoot: string;
  nodeId: string;
  objects: KitObject[];
  nodePublishSecrets: Record<string, string>;
  /** The `csi.storage.k8s.io/serviceAccount.tokens` value the kit's kubelet passes. */
  serviceAccountTokens: string;
  /** Every secret value the kit hands the driver, named: objects, nodePublish secrets, the token. */
  secrets: Array<{ label: string; value: string }>;
  close(): Promise<void>;
}

const random = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

export async function startDriverEnv(options: { stateDir?: string | undefined; nodeId: string }): Promise<DriverEnv> {
  const ownRoot = options.stateDir === undefined;
  const root = ownRoot ? await mkdtemp(join(tmpdir(), 'sscsi-conformance-driver-')) : resolve(options.stateDir!);
  const providerDir = join(root, 'providers');
  const kubeletRoot = join(root, 'kubelet');
  await mkdir(providerDir, { recursive: true });
  await mkdir(join(kubeletRoot, 'pods'), { recursive: true });
  const quiet = pino({ level: 'silent' });
  const objects: KitObject[] = [
    { name: 'db-password', fileName: 'db-password', contents: random('conformance-password'), mode: 0o600 },
    { name: 'db-username', fileName: 'db-username', contents: random('conformance-user') },
    { name: 'api-key', fileName: 'keys/api-key', contents: random('conformance-api-key') },
  ];
  const nodePublishSecrets = { username: random('npsecret-user'), password: random('npsecret-password') };
  const audience = 'conformance.secrets-store-csi-ts';
  const token = issueToken({ audience }, { namespace, podName: 'conformance-0', podUid: randomUUID(), serviceAccountName: 'default', serviceAccountUid: randomUUID() });
  const api = await new SimApiServer().start();
  const started: Array<{ close(): Promise<void> }> = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    await api.stop();
    await unmountAllUnder(root);
    if (ownRoot) await rm(root, { recursive: true, force: true });
  };
  try {
    const driverToken = api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver'));
    const driverKubeconfig = join(root, 'driver-kubeconfig');
    await api.writeKubeconfig(driverKubeconfig, { token: driverToken, user: 'secrets-store-csi-driver' });
    for (const ns of [namespace, otherNamespace]) api.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const provider = await startFakeProvider({ name: providerName, socket: join(providerDir, `${providerName}.sock`), objects: objects.map((o) => ({ name: o.name, version: 'v1', contents: o.contents })), logger: quiet });
    started.push(provider);
    const trap = await startFakeProvider({ name: 'trap', socket: join(root, 'trap.sock'), objects: objects.map((o) => ({ name: o.name, contents: 'trap' })), logger: quiet });
    started.push(trap);
    return {
      root,
      api,
      driverKubeconfig,
      providerDir,
      provider,
      trap,
      kubeletRoot,
      nodeId: options.nodeId,
      objects,
      nodePublishSecrets,
      serviceAccountTokens: JSON.stringify({ [audience]: token }),
      secrets: [
        ...objects.map((o) => ({ label: `the contents of object ${o.name}`, value: o.contents })),
        ...Object.entries(nodePublishSecrets).map(([k, v]) => ({ label: `nodePublish secret ${k}`, value: v })),
        { label: 'the service-account token', value: token.token },
      ],
      close: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
