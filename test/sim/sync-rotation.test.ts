/**
 * Secret sync, rotation, on-demand refresh, fsGroup ownership, metrics and /mounts, end to
 * end on the simulated cluster: the driver process with rotation on, the kubelet
 * republishing, the fake provider changed through its control API.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../driver/version.js';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import type { KubeObject } from '../../cluster/cluster.js';
import { eventually } from '../helpers/eventually.js';

let c: StartedSimCluster;
const intervalMs = 1000;
const ns = 'default';
const tlsDir = join(packageRoot(), 'sim', 'apiserver', 'tls');
let tlsBundle: string;
const secretValues = ['correct-horse-battery-staple', 'ak_live_5f2b8c1e9d7a4b3c', 'rotated-value-1', 'rotated-value-2', 'never-to-be-seen-again'];

const putObject = async (name: string, contents: string) => {
  for (const p of c.providers('fake')) {
    const r = await fetch(`${p.control}/objects/${name}`, { method: 'PUT', body: JSON.stringify({ contents }) });
    expect(r.status).toBe(200);
  }
};
const setFault = async (fault: Record<string, unknown> | null) => {
  for (const p of c.providers('fake')) await fetch(`${p.control}/faults`, fault ? { method: 'PUT', body: JSON.stringify(fault) } : { method: 'DELETE' });
};
const secret = (name: string) => c.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
const decode = (s: KubeObject | undefined, key: string) => Buffer.from(((s?.data as Record<string, string> | undefined) ?? {})[key] ?? '', 'base64').toString('utf8');
const metricsUrl = () => c.describe().driver.metrics;
const metricsText = async () => (await fetch(metricsUrl())).text();
const deployment = (name: string, spc: string, replicas = 2) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: busybox}]
      volumes:
        - name: secrets
          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: ${spc}}}
`;
const podsOf = (app: string) => c.list('v1', 'Pod', ns, { labelSelector: `app=${app}` });
async function allRunning(app: string, n: number): Promise<KubeObject[]> {
  const pods = await eventually(async () => {
    const list = await podsOf(app);
    return list.length === n && list;
  }, `${n} pods of ${app}`);
  for (const p of pods) await c.waitForPod({ namespace: ns, name: p.metadata.name! }, 'Running', 20_000);
  return podsOf(app);
}

beforeAll(async () => {
  tlsBundle = (await readFile(join(tlsDir, 'server.key'), 'utf8')) + (await readFile(join(tlsDir, 'server.crt'), 'utf8')) + (await readFile(join(tlsDir, 'ca.crt'), 'utf8'));
  c = await new SimCluster({
    driverArgs: ['--enable-secret-rotation', `--rotation-poll-interval=${intervalMs}ms`],
    kubeletTimings: { backoffInitialMs: 100, backoffMaxMs: 1000, republishPeriodMs: 700 },
  }).start();
  await putObject('tls-bundle', tlsBundle);
  await c.apply(`
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: synced, namespace: ${ns}}
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
      - objectName: api-key
      - objectName: tls-bundle
  secretObjects:
    - secretName: db-creds
      type: Opaque
      labels: {team: payments}
      annotations: {owner: platform}
      data:
        - {objectName: db-password, key: password}
    - secretName: web-tls
      type: kubernetes.io/tls
      data:
        - {objectName: tls-bundle, key: tls.key}
        - {objectName: tls-bundle, key: tls.crt}
`);
}, 60_000);
afterAll(async () => {
  const logs = c ? c.nodes.map((n) => `${n.driver.logs()}\n${n.providers.map((p) => p.logs()).join('\n')}`).join('\n') : '';
  await c?.stop();
  // The logs of the whole run never contain a secret value.
  for (const v of secretValues) expect(logs).not.toContain(v);
});

describe('secret sync', () => {
  it('creates the Secrets from the mounted files with type, labels, annotations and the ReplicaSet as owner', async () => {
    const pods = await allRunning('pay', 0).catch(() => []);
    expect(pods).toEqual([]);
    await c.apply(deployment('pay', 'synced'));
    const running = await allRunning('pay', 2);
    const rsName = running[0]!.metadata.ownerReferences![0]!.name;
    const s = await eventually(() => secret('db-creds'), 'db-creds');
    expect(s.type).toBe('Opaque');
    expect(decode(s, 'password')).toBe('correct-horse-battery-staple');
    expect(s.metadata.labels).toEqual({ team: 'payments', 'secrets-store.csi.k8s.io/managed': 'true' });
    expect(s.metadata.annotations).toMatchObject({ owner: 'platform' });
    expect(s.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ReplicaSet', name: rsName })]);
    expect(await metricsText()).toMatch(/sync_k8s_secret_total\{provider="fake",os_type="linux"\} [1-9]/);
  });

  it('splits a PEM bundle into tls.key and tls.crt: the key matches the certificate, the chain keeps its order', async () => {
    const s = await eventually(() => secret('web-tls'), 'web-tls');
    expect(s.type).toBe('kubernetes.io/tls');
    const key = decode(s, 'tls.key');
    const crt = decode(s, 'tls.crt');
    expect(key).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(crt.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const leaf = new X509Certificate(crt);
    expect(leaf.subject).toContain('sscsi-sim-apiserver');
    expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(createPublicKey(createPrivateKey(key)).export({ format: 'der', type: 'spki' })).toEqual(leaf.publicKey.export({ format: 'der', type: 'spki' }));
    const second = crt.slice(crt.indexOf('-----END CERTIFICATE-----') + 26);
    expect(new X509Certificate(second).subject).toContain('sscsi-sim-ca');
  });

  it('shares one Secret between two Deployments; deleting one shrinks the owner list, deleting both removes it', async () => {
    await c.apply(deployment('shop', 'synced', 1));
    await allRunning('shop', 1);
    const owners = await eventually(async () => {
      const s = await secret('db-creds');
      return s?.metadata.ownerReferences?.length === 2 && s.metadata.ownerReferences;
    }, 'two owners');
    expect(owners.map((o) => o.kind)).toEqual(['ReplicaSet', 'ReplicaSet']);
    await c.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'shop' });
    const left = await eventually(async () => {
      const s = await secret('db-creds');
      return s?.metadata.ownerReferences?.length === 1 && s.metadata.ownerReferences;
    }, 'one owner left');
    expect(left[0]!.name).toMatch(/^pay-/);
    expect(await secret('db-creds')).toBeDefined();
  });

  it('a missing file is a FailedToCreateSecret event on the pod, never a crash', async () => {
    await c.apply(`
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: broken-sync, namespace: ${ns}}
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
  secretObjects:
    - secretName: never
      type: Opaque
      data:
        - {objectName: not-mounted, key: x}
---
apiVersion: v1
kind: Pod
metadata: {name: broken-1, namespace: ${ns}}
spec:
  containers: [{name: app, image: busybox}]
  volumes:
    - name: secrets
      csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: broken-sync}}
`);
    await c.waitForPod({ namespace: ns, name: 'broken-1' }, 'Running', 20_000);
    const event = await eventually(async () => (await c.events(ns, 'broken-1')).find((e) => e.reason === 'FailedToCreateSecret'), 'FailedToCreateSecret');
    expect(event.type).toBe('Warning');
    expect(event.message).toMatch(/the volume has no file "not-mounted"/);
    expect(await secret('never')).toBeUndefined();
    expect(c.drivers()[0]!.running()).toBe(true);
    await c.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'broken-1' });
  });
});

describe('rotation', () => {
  it('a changed object reaches the file, the SPCPS version and the synced Secret; unchanged files keep inode and mtime', async () => {
    const [pod] = await podsOf('pay');
    const podRef = { namespace: ns, name: pod!.metadata.name! };
    const target = c.nodes[0]!.kubelet.targetPath(pod!.metadata.uid!, 'secrets');
    const apiKeyBefore = await stat(join(target, '..data', 'api-key'));
    await putObject('db-password', 'rotated-value-1');
    const started = Date.now();
    await eventually(async () => (await c.readFile(podRef, 'secrets', 'db-password')).toString() === 'rotated-value-1', 'rotated file', 10_000);
    expect(Date.now() - started).toBeLessThan(intervalMs + 700 + 1500);
    const apiKeyAfter = await stat(join(target, '..data', 'api-key'));
    expect(apiKeyAfter.ino).toBe(apiKeyBefore.ino);
    expect(apiKeyAfter.mtimeMs).toBe(apiKeyBefore.mtimeMs);
    const status = await eventually(async () => {
      const s = await c.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: ns, name: `${podRef.name}-${ns}-synced` });
      const objects = (s?.status as { objects: Array<{ id: string; version: string }> } | undefined)?.objects ?? [];
      return objects.find((o) => o.id === 'db-password')?.version === '2' && objects;
    }, 'SPCPS version 2');
    expect(status.find((o) => o.id === 'api-key')?.version).toBe('1');
    await eventually(async () => decode(await secret('db-creds'), 'password') === 'rotated-value-1', 'synced Secret updated');
    const state = (await (await fetch(`${c.providers('fake')[0]!.control}/state`)).json()) as { lastRequest: { currentObjectVersion: Array<{ id: string; version: string }> } };
    expect(state.lastRequest.currentObjectVersion.map((o) => o.id)).toEqual(['api-key', 'db-password', 'tls-bundle']);
    expect(await metricsText()).toMatch(/rotation_reconcile_total\{provider="fake",rotated="true",os_type="linux"\} [1-9]/);
  });

  it('a failing rotation keeps the old content, backs off with an event and a metric, and recovers', async () => {
    const [pod] = await podsOf('pay');
    const podRef = { namespace: ns, name: pod!.metadata.name! };
    await setFault({ mode: 'error', code: 'Throttled' });
    await putObject('db-password', 'rotated-value-2');
    try {
      const ev = await eventually(async () => (await c.events(ns, podRef.name)).find((e) => e.reason === 'SecretRotationFailed'), 'SecretRotationFailed event');
      expect(ev.message).toMatch(/Throttled/);
      expect((await c.readFile(podRef, 'secrets', 'db-password')).toString()).toBe('rotated-value-1');
      expect(await metricsText()).toMatch(/rotation_reconcile_error_total\{provider="fake",rotated="false",error_type="Throttled",os_type="linux"\} [1-9]/);
      const requestsAt = async () => ((await (await fetch(`${c.providers('fake')[0]!.control}/state`)).json()) as { requests: number }).requests;
      // Backoff: over 2 s, far fewer provider calls than one per republish per volume (700 ms × 3 volumes).
      const a = await requestsAt();
      await new Promise((r) => setTimeout(r, 2000));
      expect((await requestsAt()) - a).toBeLessThanOrEqual(6);
    } finally {
      await setFault(null);
    }
    await eventually(async () => (await c.readFile(podRef, 'secrets', 'db-password')).toString() === 'rotated-value-2', 'recovery', 20_000);
    const mounts = (await (await fetch(metricsUrl().replace('/metrics', '/mounts'))).json()) as { mounts: Array<{ pod: string; lastRotation?: { result: string } }> };
    await eventually(async () => {
      const m = (await (await fetch(metricsUrl().replace('/metrics', '/mounts'))).json()) as typeof mounts;
      return m.mounts.find((x) => x.pod === podRef.name)?.lastRotation?.result !== 'failed';
    }, 'lastRotation no longer failed');
  });
});

describe('on-demand refresh', () => {
  it('the refresh-requested-at annotation refetches at once and is recorded on the SPCPS and as an event', async () => {
    const [pod] = await podsOf('pay');
    const name = pod!.metadata.name!;
    await putObject('api-key', 'never-to-be-seen-again');
    const requestedAt = new Date().toISOString();
    const current = (await c.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name }))!;
    await c.apply({ ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, 'secrets-store.csi.k8s.io/refresh-requested-at': requestedAt } } });
    const event = await eventually(async () => (await c.events(ns, name)).find((e) => e.reason === 'SecretRefreshed'), 'SecretRefreshed');
    expect(event.message).toContain(requestedAt);
    expect((await c.readFile({ namespace: ns, name }, 'secrets', 'api-key')).toString()).toBe('never-to-be-seen-again');
    // The driver records the event first, then annotates the pod status.
    const spcps = await eventually(async () => {
      const s = await c.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: ns, name: `${name}-${ns}-synced` });
      return s?.metadata.annotations?.['secrets-store.csi.k8s.io/refresh-requested-at'] === requestedAt && s;
    }, 'the refresh recorded on the pod status');
    expect(JSON.parse(spcps!.metadata.annotations!['secrets-store.csi.k8s.io/last-refresh']!)).toMatchObject({ result: expect.stringMatching(/rotated|unchanged/) });
  });
});

describe('observability', () => {
  it('serves /mounts with the governance record and no secret bytes; /healthz is ok', async () => {
    const [pod] = await podsOf('pay');
    const text = await (await fetch(metricsUrl().replace('/metrics', '/mounts'))).text();
    for (const v of secretValues) expect(text).not.toContain(v);
    const doc = JSON.parse(text) as { node: string; mounts: Array<Record<string, unknown>> };
    expect(doc.node).toBe('sim-node');
    const m = doc.mounts.find((x) => x.pod === pod!.metadata.name)!;
    expect(m).toMatchObject({
      namespace: ns,
      podUid: pod!.metadata.uid,
      serviceAccount: 'default',
      secretProviderClass: 'synced',
      provider: 'fake',
      syncedSecrets: ['db-creds', 'web-tls'],
    });
    expect((m.objects as Array<{ id: string }>).map((o) => o.id)).toEqual(['api-key', 'db-password', 'tls-bundle']);
    expect((await fetch(metricsUrl().replace('/metrics', '/healthz'))).status).toBe(200);
    const metrics = await metricsText();
    for (const name of ['node_publish_total', 'node_unpublish_total', 'node_publish_duration_seconds_bucket', 'provider_mount_duration_seconds_bucket', 'provider_mount_inflight', 'provider_mount_queued', 'k8s_secret_duration_sec_bucket', 'rotation_reconcile_duration_sec_bucket']) {
      expect(metrics).toContain(name);
    }
  });
});

describe('file ownership', () => {
  it("files are group-owned by the pod's fsGroup and group-readable (volume_mount_group)", async () => {
    await c.apply(`
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: private, namespace: ${ns}}
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-username
        mode: "0600"
---
apiVersion: v1
kind: Pod
metadata: {name: nonroot-1, namespace: ${ns}}
spec:
  securityContext: {runAsUser: 1000, fsGroup: 2000}
  containers: [{name: app, image: busybox}]
  volumes:
    - name: secrets
      csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: private}}
`);
    const pod = (await c.waitForPod({ namespace: ns, name: 'nonroot-1' }, 'Running', 20_000))!;
    const target = c.nodes[0]!.kubelet.targetPath(pod.metadata.uid!, 'secrets');
    const file = await stat(join(target, '..data', 'db-username'));
    expect(file.gid).toBe(2000);
    expect(file.mode & 0o777).toBe(0o640);
    expect((await stat(join(target, '..data'))).gid).toBe(2000);
    expect((await stat(target)).gid).toBe(2000);
  });
});

describe('the last consumer', () => {
  it('deleting the last Deployment garbage-collects its synced Secrets', async () => {
    await c.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'pay' });
    await eventually(async () => (await secret('db-creds')) === undefined && (await secret('web-tls')) === undefined, 'synced Secrets collected', 20_000);
  });
});
