/**
 * The simulated cluster end to end, through the Cluster interface (HTTPS API with client-node)
 * and real sockets: the kubelet publishes through the driver process, which reads the API
 * with its own RBAC-limited identity and calls the fake provider process.
 */
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import type { KubeObject } from '../../cluster/cluster.js';
import { isRoot } from '../helpers/temp-root.js';
import { eventually } from '../helpers/eventually.js';

let c: StartedSimCluster;
const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

const spcYaml = (name: string, namespace = 'default') => `
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
      - objectName: api-key
        fileName: keys/api-key
`;
const podYaml = (name: string, spc: string, extra = '') => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  containers: [{name: app, image: busybox}]
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes: {secretProviderClass: ${spc}}
${extra}`;
const ref = (name: string) => ({ namespace: 'default', name });
const providerState = async () =>
  (await (await fetch(`${c.providers()[0]!.control}/state`)).json()) as {
    requests: number;
    lastRequest: { attributes: Record<string, unknown>; secrets: Record<string, string> | null };
  };
const failedMounts = async (pod: string) => (await c.events('default', pod)).filter((e) => e.reason === 'FailedMount').map((e) => String(e.message));

beforeAll(async () => {
  c = await new SimCluster({
    driverArgs: ['--enable-secret-rotation', '--rotation-poll-interval=500ms'],
    kubeletTimings: { backoffInitialMs: 100, backoffMaxMs: 1000, republishPeriodMs: 600 },
  }).start();
  await c.apply(spcYaml('app'));
}, 60_000);
afterAll(async () => {
  await c?.stop();
});

describe('a pod with a secrets-store volume', () => {
  let pod: KubeObject;

  it('runs, with the files readable as its container sees them and the pod status recorded', async () => {
    await c.apply(podYaml('web-1', 'app'));
    pod = (await c.waitForPod(ref('web-1'), 'Running', 20_000))!;
    expect((await c.readFile(ref('web-1'), 'secrets', 'db-password')).toString()).toBe('correct-horse-battery-staple');
    expect((await c.readFile(ref('web-1'), 'secrets', 'keys/api-key')).length).toBeGreaterThan(0);
    const target = c.nodes[0]!.kubelet.targetPath(pod.metadata.uid!, 'secrets');
    if (isRoot) expect(await mountsUnder(target)).toEqual([expect.objectContaining({ mountPoint: target, fsType: 'tmpfs' })]);
    const status = await c.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: 'default', name: 'web-1-default-app' });
    expect(status?.metadata.labels).toEqual({ 'internal.secrets-store.csi.k8s.io/node-name': 'sim-node' });
    expect(status?.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: pod.metadata.uid }]);
    expect(status?.status).toMatchObject({ mounted: true, podName: 'web-1', secretProviderClassName: 'app', targetPath: target });
  });

  it('is republished periodically (requiresRepublish), which with rotation on calls the provider again', async () => {
    const before = (await providerState()).requests;
    await eventually(async () => (await providerState()).requests >= before + 2, 'two republishes reaching the provider', 10_000);
  });

  it('when deleted: volume unpublished, tmpfs gone, pod dir removed, pod status garbage-collected', async () => {
    await c.delete({ apiVersion: 'v1', kind: 'Pod', ...ref('web-1') });
    await c.waitForPod(ref('web-1'), 'Deleted', 20_000);
    const podDir = join(c.nodes[0]!.kubeletRoot, 'pods', pod.metadata.uid!);
    expect(await mountsUnder(podDir)).toEqual([]);
    await expect(lstat(podDir)).rejects.toMatchObject({ code: 'ENOENT' });
    await eventually(
      async () => (await c.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: 'default', name: 'web-1-default-app' })) === undefined,
      'SPCPS garbage collection',
    );
  });
});

describe('failures the user sees as events', () => {
  it('an SPC only in another namespace: the pod stays Pending with FailedMount naming the problem', async () => {
    await c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
    await c.apply(spcYaml('only-there', 'elsewhere'));
    await c.apply(podYaml('lost-1', 'only-there'));
    const messages = await eventually(async () => {
      const m = await failedMounts('lost-1');
      return m.length > 0 && m;
    }, 'FailedMount');
    expect(messages[0]).toMatch(/^MountVolume.SetUp failed for volume "secrets" : rpc error: code = NotFound desc = .*SecretProviderClass "only-there" not found in namespace "default"/);
    const p = await c.get({ apiVersion: 'v1', kind: 'Pod', ...ref('lost-1') });
    expect((p!.status as { phase: string }).phase).toBe('Pending');
    await c.delete({ apiVersion: 'v1', kind: 'Pod', ...ref('lost-1') });
    await c.waitForPod(ref('lost-1'), 'Deleted');
  });

  it('a driver without an RBAC rule it needs fails loudly, and recovers when the rule is back', async () => {
    const role = (await c.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'secretproviderclasses-role' }))!;
    const rules = role.rules as Array<{ resources: string[]; verbs: string[] }>;
    await c.apply({ ...role, metadata: { name: role.metadata.name! }, rules: rules.filter((r) => !r.resources.includes('secretproviderclasspodstatuses')) });
    try {
      await c.apply(podYaml('rbac-1', 'app'));
      const messages = await eventually(async () => {
        const m = await failedMounts('rbac-1');
        return m.length > 0 && m;
      }, 'FailedMount');
      expect(messages[0]).toMatch(/code = PermissionDenied desc = .*secretproviderclasspodstatuses.* is forbidden: User "system:serviceaccount:kube-system:secrets-store-csi-driver" cannot create resource "secretproviderclasspodstatuses"/);
    } finally {
      await c.apply({ ...role, metadata: { name: role.metadata.name! }, rules });
    }
    await c.waitForPod(ref('rbac-1'), 'Running', 20_000);
    await c.delete({ apiVersion: 'v1', kind: 'Pod', ...ref('rbac-1') });
  });

  it('an unreachable driver is retried like any failure: FailedMount Unavailable, then Running once it is back', async () => {
    const driver = c.drivers()[0]!;
    await driver.kill();
    try {
      await c.apply(podYaml('nodriver-1', 'app'));
      const messages = await eventually(async () => {
        const m = await failedMounts('nodriver-1');
        return m.length > 0 && m;
      }, 'FailedMount');
      expect(messages[0]).toMatch(/rpc error: code = Unavailable/);
    } finally {
      await driver.start();
    }
    await c.waitForPod(ref('nodriver-1'), 'Running', 20_000);
    await c.delete({ apiVersion: 'v1', kind: 'Pod', ...ref('nodriver-1') });
  });
});

describe('what the kubelet passes to the provider', () => {
  it('nodePublishSecretRef values and service-account tokens for the CSIDriver tokenRequests', async () => {
    const csiDriver = (await c.get({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', name: 'secrets-store.csi.k8s.io' }))!;
    await c.apply({ ...csiDriver, metadata: { name: csiDriver.metadata.name! }, spec: { ...(csiDriver.spec as object), tokenRequests: [{ audience: 'api://vault', expirationSeconds: 3600 }] } });
    try {
      await c.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, stringData: {}, data: { clientid: Buffer.from('my-client').toString('base64'), clientsecret: Buffer.from('s3cr3t-value').toString('base64') } });
      await c.apply(podYaml('tok-1', 'app', '        nodePublishSecretRef: {name: creds}\n'));
      await c.waitForPod(ref('tok-1'), 'Running', 20_000);
      const { lastRequest } = await providerState();
      expect(lastRequest.secrets).toEqual({ clientid: `[redacted sha256:${sha16('my-client')}]`, clientsecret: `[redacted sha256:${sha16('s3cr3t-value')}]` });
      const tokens = lastRequest.attributes['csi.storage.k8s.io/serviceAccount.tokens'] as Record<string, { token: string; expirationTimestamp: string }>;
      expect(Object.keys(tokens)).toEqual(['api://vault']);
      const expiresIn = Date.parse(tokens['api://vault']!.expirationTimestamp) - Date.now();
      expect(expiresIn).toBeGreaterThan(3500_000);
      expect(expiresIn).toBeLessThanOrEqual(3600_000);
      expect(lastRequest.attributes).toMatchObject({
        'csi.storage.k8s.io/pod.name': 'tok-1',
        'csi.storage.k8s.io/pod.namespace': 'default',
        'csi.storage.k8s.io/serviceAccount.name': 'default',
        'csi.storage.k8s.io/ephemeral': 'true',
        secretProviderClass: 'app',
      });
      await c.delete({ apiVersion: 'v1', kind: 'Pod', ...ref('tok-1') });
    } finally {
      await c.apply({ ...csiDriver, metadata: { name: csiDriver.metadata.name! } });
    }
  });
});

describe('several nodes', () => {
  it('spreads a Deployment over the nodes, each kubelet publishing through its own driver', async () => {
    const multi = await new SimCluster({ nodes: 2 }).start();
    try {
      await multi.apply(spcYaml('app'));
      await multi.apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox}]
      volumes:
        - name: secrets
          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app}}
`);
      const pods = await eventually(async () => {
        const list = await multi.list('v1', 'Pod', 'default', { labelSelector: 'app=web' });
        return list.length === 4 && list;
      }, 'four pods');
      for (const p of pods) await multi.waitForPod(ref(p.metadata.name!), 'Running', 20_000);
      const nodes = (await multi.list('v1', 'Pod', 'default', { labelSelector: 'app=web' })).map((p) => (p.spec as { nodeName: string }).nodeName);
      expect(new Set(nodes)).toEqual(new Set(['sim-node-1', 'sim-node-2']));
      const statuses = await multi.list('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', 'default');
      expect(statuses.map((s) => s.metadata.labels!['internal.secrets-store.csi.k8s.io/node-name']).sort()).toEqual(['sim-node-1', 'sim-node-1', 'sim-node-2', 'sim-node-2']);
      expect(multi.describe().providers.map((p) => p.node)).toEqual(['sim-node-1', 'sim-node-2']);
    } finally {
      await multi.stop();
    }
    expect(await mountsUnder(multi.root)).toEqual([]);
  });
});
