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
 *
 * The driver runs with rotation on and a short interval (`rotationIntervalMs`), so the
 * rotation checks see a republish fetch again; every Mount the provider receives is kept,
 * as received, for the checks of what a driver sends.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startFakeProvider, type StartedFakeProvider } from '../../fake-providers/fake-provider.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { issueToken } from '../../sim/kubelet/service-account-token.js';
import type { MountRequest__Output } from '../../proto/gen/v1alpha1/MountRequest.js';
import { unmountUnder } from './node-mounts.js';

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

/** The rotation interval the kit gives the driver (--rotation-poll-interval). */
export const rotationIntervalMs = 1000;

/** A Mount the kit's provider received, with when. */
export interface ReceivedMount {
  at: number;
  request: MountRequest__Output;
  /** The pod it was for (from the attributes), '' when they were not JSON. */
  pod: string;
}

/** An object only the rotation checks mount; its contents change during the run. */
export const rotatingObject = 'rotating';

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
  /** Every Mount the kit's provider received, in order. */
  received: ReceivedMount[];
  /** Gives the rotating object new random contents and returns its version. */
  rotate(): string;
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
    await unmountUnder(root);
    if (ownRoot) await rm(root, { recursive: true, force: true });
  };
  try {
    const driverToken = api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver'));
    const driverKubeconfig = join(root, 'driver-kubeconfig');
    await api.writeKubeconfig(driverKubeconfig, { token: driverToken, user: 'secrets-store-csi-driver' });
    for (const ns of [namespace, otherNamespace]) api.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const received: ReceivedMount[] = [];
    const onMount = (request: MountRequest__Output) => {
      let pod = '';
      try {
        pod = String((JSON.parse(request.attributes) as Record<string, unknown>)['csi.storage.k8s.io/pod.name'] ?? '');
      } catch {
        // not JSON: the check comparing attributes says so
      }
      received.push({ at: Date.now(), request, pod });
    };
    const rotating = [random('conformance-rotating')];
    const provider = await startFakeProvider({
      name: providerName,
      socket: join(providerDir, `${providerName}.sock`),
      objects: [...objects.map((o) => ({ name: o.name, version: 'v1', contents: o.contents })), { name: rotatingObject, version: 'v1', contents: rotating[0]! }],
      logger: quiet,
      onMount,
    });
    started.push(provider);
    const secrets = [
      ...objects.map((o) => ({ label: `the contents of object ${o.name}`, value: o.contents })),
      { label: `the contents of object ${rotatingObject} v1`, value: rotating[0]! },
      ...Object.entries(nodePublishSecrets).map(([k, v]) => ({ label: `nodePublish secret ${k}`, value: v })),
      { label: 'the service-account token', value: token.token },
    ];
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
      received,
      rotate() {
        const contents = random('conformance-rotating');
        const obj = provider.store.put({ name: rotatingObject, contents });
        secrets.push({ label: `the contents of object ${rotatingObject} ${obj.version}`, value: contents });
        return obj.version;
      },
      nodePublishSecrets,
      serviceAccountTokens: JSON.stringify({ [audience]: token }),
      secrets,
      close: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
