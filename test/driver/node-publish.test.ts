/**
 * NodePublishVolume and NodeUnpublishVolume through the CSI socket, as the kubelet calls
 * them, with the real mounter, the real Kubernetes client against the embedded API server
 * and the fake provider: what a kubelet and a user would check.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { mountTmpfs } from '../../driver/mount/tmpfs-mounter.js';
import { kubeletPublishRequest } from '../../harness/csi-client.js';
import { startHarness, type Harness } from '../helpers/driver-harness.js';
import { isRoot } from '../helpers/temp-root.js';

const secretValues = { 'db-password': 'p@ssw0rd-s3cr3t-value', 'api-key': 'ak_live_0123456789abcdef', 'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' };
const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const objectsParam = '- objectName: db-password\n  mode: "0600"\n- objectName: api-key\n  fileName: keys/api-key\n- objectName: tls.crt\n';

let h: Harness;
let uidCounter = 0;
const newUid = () => `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, '0')}`;
const pod = (name: string, namespace = 'default', uid = newUid()) => ({ name, namespace, uid });

const controlState = async () =>
  (await (await fetch(`${h.provider.control}/state`)).json()) as {
    requests: number;
    lastRequest: { attributes: Record<string, unknown>; secrets: Record<string, string> | null; permission: string; currentObjectVersion: unknown[] };
  };
const setFault = (fault: Record<string, unknown>) => fetch(`${h.provider.control}/faults`, { method: 'PUT', body: JSON.stringify(fault) });

async function publishError(req: ReturnType<typeof kubeletPublishRequest>, deadlineMs?: number): Promise<grpc.ServiceError> {
  const err = await h.client.nodePublishVolume(req, deadlineMs ? { deadlineMs } : {}).then(
    () => null,
    (e: grpc.ServiceError) => e,
  );
  expect(err, 'NodePublishVolume should have failed').not.toBeNull();
  return err!;
}

/** The target holds nothing: no mount, no directory. */
async function expectClean(target: string): Promise<void> {
  expect(await mountsUnder(target)).toEqual([]);
  await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
}

beforeAll(async () => {
  h = await startHarness({ objects: Object.entries(secretValues).map(([name, contents]) => ({ name, contents, version: 'v1' })) });
  h.createSpc('default', 'app-secrets', { provider: 'fake', parameters: { objects: objectsParam, vaultAddress: 'https://vault.internal' } });
  h.createSpc('default', 'no-provider', { parameters: { objects: objectsParam } });
  h.createSpc('default', 'no-parameters', { provider: 'fake' });
  h.createSpc('default', 'missing-provider', { provider: 'vault', parameters: { objects: objectsParam } });
  h.createSpc('default', 'evil-provider', { provider: '../../tmp/evil', parameters: { objects: objectsParam } });
  h.createSpc('default', 'unknown-object', { provider: 'fake', parameters: { objects: '- objectName: not-in-store' } });
  h.api.store.create('namespaces', { metadata: { name: 'other' } });
  h.createSpc('other', 'only-elsewhere', { provider: 'fake', parameters: { objects: objectsParam } });
});
afterEach(async () => {
  await fetch(`${h.provider.control}/faults`, { method: 'DELETE' });
  h.api.faults.clear();
});
afterAll(async () => {
  await h?.close();
});

describe('NodePublishVolume', () => {
  it('mounts a tmpfs, writes the files with their modes in the ..data layout, and records the pod status', async () => {
    const p = pod('web-0');
    const target = h.target(p.uid);
    expect(await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'app-secrets', pod: p }))).toEqual({});

    if (isRoot) {
      const mounts = await mountsUnder(target);
      expect(mounts).toHaveLength(1);
      expect(mounts[0]).toMatchObject({ mountPoint: target, fsType: 'tmpfs' });
    }
    expect(await readFile(join(target, 'db-password'), 'utf8')).toBe(secretValues['db-password']);
    expect(await readFile(join(target, 'keys/api-key'), 'utf8')).toBe(secretValues['api-key']);
    expect(await readFile(join(target, 'tls.crt'), 'utf8')).toBe(secretValues['tls.crt']);
    expect((await stat(join(target, 'db-password'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(target, 'keys/api-key'))).mode & 0o777).toBe(0o644);
    const entries = (await readdir(target)).sort();
    expect(entries.filter((e) => !e.startsWith('..'))).toEqual(['db-password', 'keys', 'tls.crt']);
    expect(await readlink(join(target, 'db-password'))).toBe('..data/db-password');
    expect(entries.filter((e) => e.startsWith('..'))).toHaveLength(2);

    const status = h.api.store.get('secretproviderclasspodstatuses', 'default', `web-0-default-app-secrets`)!;
    expect(status).toMatchObject({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      metadata: {
        name: 'web-0-default-app-secrets',
        namespace: 'default',
        labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web-0', uid: p.uid }],
      },
      status: {
        podName: 'web-0',
        secretProviderClassName: 'app-secrets',
        targetPath: target,
        mounted: true,
        objects: [
          { id: 'api-key', version: 'v1' },
          { id: 'db-password', version: 'v1' },
          { id: 'tls.crt', version: 'v1' },
        ],
      },
    });
  });

  it('sends the provider the SPC parameters merged with the volume context, the secrets and permission 420', async () => {
    const p = pod('web-1');
    const tokens = JSON.stringify({ vault: { token: 'sa-token-from-context', expirationTimestamp: '2026-11-23T10:00:00Z' } });
    await h.client.nodePublishVolume(
      kubeletPublishRequest({
        targetPath: h.target(p.uid),
        spc: 'app-secrets',
        pod: { ...p, serviceAccount: 'web-sa' },
        secrets: { username: 'node-publish-user', password: 'node-publish-pass' },
        volumeContext: { 'csi.storage.k8s.io/serviceAccount.tokens': tokens, vaultAddress: 'https://spoofed.example' },
      }),
    );
    const { lastRequest } = await controlState();
    expect(lastRequest.permission).toBe('420');
    expect(lastRequest.currentObjectVersion).toEqual([]);
    expect(lastRequest.secrets).toEqual({ username: `[redacted sha256:${sha16('node-publish-user')}]`, password: `[redacted sha256:${sha16('node-publish-pass')}]` });
    expect(lastRequest.attributes).toMatchObject({
      objects: objectsParam,
      secretProviderClass: 'app-secrets',
      'csi.storage.k8s.io/pod.name': 'web-1',
      'csi.storage.k8s.io/pod.namespace': 'default',
      'csi.storage.k8s.io/pod.uid': p.uid,
      'csi.storage.k8s.io/serviceAccount.name': 'web-sa',
      'csi.storage.k8s.io/ephemeral': 'true',
      'csi.storage.k8s.io/serviceAccount.tokens': { vault: { token: `[redacted sha256:${sha16('sa-token-from-context')}]`, expirationTimestamp: '2026-11-23T10:00:00Z' } },
      // the volume context wins over a parameter of the same name
      vaultAddress: 'https://spoofed.example',
    });
  });

  it('takes service-account tokens from the request secrets first and keeps them out of the provider secrets', async () => {
    const p = pod('web-2');
    const inSecrets = JSON.stringify({ vault: { token: 'token-in-secrets', expirationTimestamp: '2026-11-23T10:00:00Z' } });
    const inContext = JSON.stringify({ vault: { token: 'token-in-context', expirationTimestamp: '2026-11-23T10:00:00Z' } });
    await h.client.nodePublishVolume(
      kubeletPublishRequest({
        targetPath: h.target(p.uid),
        spc: 'app-secrets',
        pod: p,
        secrets: { 'csi.storage.k8s.io/serviceAccount.tokens': inSecrets },
        volumeContext: { 'csi.storage.k8s.io/serviceAccount.tokens': inContext },
      }),
    );
    const { lastRequest } = await controlState();
    expect(lastRequest.secrets).toEqual({});
    expect(lastRequest.attributes['csi.storage.k8s.io/serviceAccount.tokens']).toEqual({
      vault: { token: `[redacted sha256:${sha16('token-in-secrets')}]`, expirationTimestamp: '2026-11-23T10:00:00Z' },
    });
  });

  it('is idempotent: a republish of a mounted volume without rotation does no work', async () => {
    const p = pod('web-3');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    await h.client.nodePublishVolume(req);
    const before = await controlState();
    const data = await readlink(join(req.target_path!, '..data'));
    const apiCalls = h.api.requestLog.length;
    await h.client.nodePublishVolume(req);
    await h.client.nodePublishVolume(req);
    expect((await controlState()).requests).toBe(before.requests);
    expect(h.api.requestLog.length).toBe(apiCalls);
    expect(await readlink(join(req.target_path!, '..data'))).toBe(data);
    if (isRoot) expect(await mountsUnder(req.target_path!)).toHaveLength(1);
  });

  it('serializes concurrent publishes of one target: one mount, one provider call', async () => {
    const p = pod('web-4');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    const before = (await controlState()).requests;
    await Promise.all(Array.from({ length: 5 }, () => h.client.nodePublishVolume(req)));
    expect((await controlState()).requests).toBe(before + 1);
    if (isRoot) expect(await mountsUnder(req.target_path!)).toHaveLength(1);
  });

  it('publishes many pods at once', async () => {
    const pods = Array.from({ length: 30 }, (_, i) => pod(`storm-${i}`));
    await Promise.all(pods.map((p) => h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p }))));
    for (const p of pods) expect(await readFile(join(h.target(p.uid), 'db-password'), 'utf8')).toBe(secretValues['db-password']);
    expect(h.api.store.list('secretproviderclasspodstatuses', 'default').filter((o) => o.metadata.name!.startsWith('storm-'))).toHaveLength(30);
    await Promise.all(pods.map((p) => h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: h.target(p.uid) })));
    for (const p of pods) await expectClean(h.target(p.uid));
  });

  it('updates an existing pod status from another node instead of failing (StatefulSet pods move)', async () => {
    const p = pod('db-0');
    h.api.store.create('secretproviderclasspodstatuses', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      metadata: { name: 'db-0-default-app-secrets', namespace: 'default', labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-0' } },
      status: { podName: 'db-0', secretProviderClassName: 'app-secrets', targetPath: '/old', mounted: true, objects: [] },
    });
    await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p }));
    const status = h.api.store.get('secretproviderclasspodstatuses', 'default', 'db-0-default-app-secrets')!;
    expect(status.metadata.labels).toEqual({ 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' });
    expect((status.status as { targetPath: string }).targetPath).toBe(h.target(p.uid));
    expect(status.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'db-0', uid: p.uid }]);
  });

  it('does not rewrite a pod status that already says the same', async () => {
    const p = pod('same-0');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    await h.client.nodePublishVolume(req);
    await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: req.target_path! });
    const from = h.api.requestLog.length;
    await h.client.nodePublishVolume(req);
    const calls = h.api.requestLog.slice(from).map((r) => `${r.verb} ${r.resource} ${r.code}`);
    expect(calls).toEqual(['get secretproviderclasses 200', 'create secretproviderclasspodstatuses 409', 'get secretproviderclasspodstatuses 200']);
  });

  it('reuses keep-alive connections to the API server instead of opening one per request', async () => {
    const before = h.api.connections();
    const fromLog = h.api.requestLog.length;
    for (let i = 0; i < 25; i++) {
      const p = pod(`reuse-${i}`);
      await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p }));
      await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: h.target(p.uid) });
    }
    expect(h.api.requestLog.length - fromLog).toBe(50);
    // client-node 2.0 alone would open 50 connections here (a new undici Agent per request).
    expect(h.api.connections() - before).toBeLessThanOrEqual(1);
  });
});

describe('NodePublishVolume failures leave the target clean', () => {
  const cases: Array<{ name: string; spc: string; ns?: string; code: grpc.status; message: RegExp; setup?: () => Promise<unknown> | void; deadlineMs?: number }> = [
    { name: 'SPC missing', spc: 'nope', code: grpc.status.NOT_FOUND, message: /SecretProviderClass "nope" not found in namespace "default": it must exist in the pod's namespace/ },
    { name: 'SPC only in another namespace', spc: 'only-elsewhere', code: grpc.status.NOT_FOUND, message: /SecretProviderClass "only-elsewhere" not found in namespace "default"/ },
    { name: 'SPC without provider', spc: 'no-provider', code: grpc.status.FAILED_PRECONDITION, message: /default\/no-provider has no spec\.provider/ },
    { name: 'SPC without parameters', spc: 'no-parameters', code: grpc.status.FAILED_PRECONDITION, message: /default\/no-parameters has no spec\.parameters/ },
    { name: 'provider not installed', spc: 'missing-provider', code: grpc.status.UNAVAILABLE, message: /provider "vault" not found: no socket vault\.sock in .*etc-providers, .*providers; is the vault provider installed/ },
    { name: 'provider name with a path', spc: 'evil-provider', code: grpc.status.FAILED_PRECONDITION, message: /invalid provider name "\.\.\/\.\.\/tmp\/evil"/ },
    { name: 'unknown object', spc: 'unknown-object', code: grpc.status.UNKNOWN, message: /provider "fake" failed to mount: NOT_FOUND: object "not-in-store" not found/ },
    { name: 'provider error code', spc: 'app-secrets', code: grpc.status.UNKNOWN, message: /provider "fake" failed to mount: it returned error code "VaultSealed"/, setup: () => setFault({ mode: 'error', code: 'VaultSealed' }) },
    { name: 'provider unavailable', spc: 'app-secrets', code: grpc.status.UNAVAILABLE, message: /provider "fake" is unavailable at .*fake\.sock: fake provider fault: unavailable; is the provider running\?/, setup: () => setFault({ mode: 'unavailable' }) },
    { name: 'provider hangs past the deadline', spc: 'app-secrets', code: grpc.status.DEADLINE_EXCEEDED, message: /provider "fake" did not answer Mount before the deadline/, setup: () => setFault({ mode: 'hang' }), deadlineMs: 1500 },
    { name: 'file path escaping the volume', spc: 'app-secrets', code: grpc.status.UNKNOWN, message: /provider "fake" returned an unusable reply: invalid file path "\.\.\/escaped-secret": must not contain '\.\.'/, setup: () => setFault({ mode: 'bad-path' }) },
    { name: 'reply over the receive limit', spc: 'app-secrets', code: grpc.status.RESOURCE_EXHAUSTED, message: /raise --max-call-recv-msg-size \(now 4194304 bytes\)/, setup: () => setFault({ mode: 'oversize' }) },
    { name: 'API forbids reading the SPC', spc: 'app-secrets', code: grpc.status.PERMISSION_DENIED, message: /failed to get SecretProviderClass default\/app-secrets: forbidden: .*check the driver's ClusterRole/, setup: () => h.api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 403 }) },
    { name: 'API 500 on the SPC', spc: 'app-secrets', code: grpc.status.UNAVAILABLE, message: /failed to get SecretProviderClass default\/app-secrets: Kubernetes API answered 500/, setup: () => h.api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 500 }) },
    { name: 'API 503 on the pod status', spc: 'app-secrets', code: grpc.status.UNAVAILABLE, message: /failed to record SecretProviderClassPodStatus default\/.*: Kubernetes API answered 503/, setup: () => h.api.faults.add({ verb: 'create', resource: 'secretproviderclasspodstatuses', code: 503 }) },
    { name: 'API 500 reading the existing pod status', spc: 'app-secrets', code: grpc.status.UNAVAILABLE, message: /failed to get SecretProviderClassPodStatus default\/fail-app-secrets-default-app-secrets: Kubernetes API answered 500/, setup: () => h.api.faults.add({ verb: 'get', resource: 'secretproviderclasspodstatuses', code: 500 }) },
  ];

  for (const c of cases) {
    it(`${c.name} → ${grpc.status[c.code]}`, async () => {
      await c.setup?.();
      const p = pod(`fail-${c.spc}`);
      if (c.name === 'API 500 reading the existing pod status') {
        // Make create answer 409 so the driver reads the existing object, and that read fails.
        h.api.store.create('secretproviderclasspodstatuses', {
          metadata: { name: `${p.name}-default-${c.spc}`, namespace: 'default' },
          status: {},
        });
      }
      const target = h.target(p.uid);
      const err = await publishError(kubeletPublishRequest({ targetPath: target, spc: c.spc, pod: p }), c.deadlineMs);
      expect(grpc.status[err.code]).toBe(grpc.status[c.code]);
      expect(err.details).toMatch(c.message);
      await expectClean(target);
    });
  }

  it('recovers on the kubelet retry once the fault is gone', async () => {
    await setFault({ mode: 'error', code: 'Throttled', count: 1 });
    const p = pod('retry-0');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    await publishError(req);
    await expectClean(req.target_path!);
    await h.client.nodePublishVolume(req);
    expect(await readFile(join(req.target_path!, 'db-password'), 'utf8')).toBe(secretValues['db-password']);
  });

  // Found by test/fuzz/publish-inputs.fuzz.test.ts: the mount was made and the provider
  // called before the API refused the pod status named after the bad name.
  it('refuses names Kubernetes cannot hold before mounting or calling the provider', async () => {
    const before = (await controlState()).requests;
    for (const [p, spc, message] of [
      [pod('../x'), 'app-secrets', /csi\.storage\.k8s\.io\/pod\.name "\.\.\/x" is not a valid pod name: it must be a lowercase RFC 1123 subdomain/],
      [pod('web-0', 'Default'), 'app-secrets', /csi\.storage\.k8s\.io\/pod\.namespace "Default" is not a valid namespace: it must be a lowercase RFC 1123 label/],
      [pod('web-0'), 'App_Secrets', /secretProviderClass "App_Secrets" is not a valid SecretProviderClass name: it must be a lowercase RFC 1123 subdomain/],
      [pod('w'.repeat(240)), 'app-secrets', /would be named .*, 260 characters, more than the 253 Kubernetes allows/],
    ] as const) {
      const target = h.target(p.uid);
      const err = await publishError(kubeletPublishRequest({ targetPath: target, spc, pod: p }));
      expect(grpc.status[err.code]).toBe('INVALID_ARGUMENT');
      expect(err.details).toMatch(message);
      await expectClean(target);
    }
    expect((await controlState()).requests).toBe(before);
  });

  it('waits out a 429 with Retry-After from the API (as client-go does) instead of failing the mount', async () => {
    h.api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 429, retryAfterSeconds: 1, count: 1 });
    h.api.faults.add({ verb: 'create', resource: 'secretproviderclasspodstatuses', code: 429, retryAfterSeconds: 1, count: 1 });
    const p = pod('throttled-0');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    const started = performance.now();
    expect(await h.client.nodePublishVolume(req)).toEqual({});
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(await readFile(join(req.target_path!, 'db-password'), 'utf8')).toBe(secretValues['db-password']);
    const log = h.api.requestLog.filter((r) => r.name === 'app-secrets' || r.resource === 'secretproviderclasspodstatuses').filter((r) => r.code === 429);
    expect(log.map((r) => `${r.verb} ${r.resource}`)).toEqual(['get secretproviderclasses', 'create secretproviderclasspodstatuses']);
    expect(h.api.store.get('secretproviderclasspodstatuses', 'default', 'throttled-0-default-app-secrets')).toBeDefined();
  });
});

describe('a target left half-published', () => {
  it.skipIf(!isRoot)('a tmpfs mounted without ..data (a publish that died mid-way) is mounted again, never reported as mounted', async () => {
    const p = pod('half-0');
    const target = h.target(p.uid);
    await mkdir(target, { recursive: true });
    mountTmpfs(target);
    try {
      expect(await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'app-secrets', pod: p }))).toEqual({});
      expect(await readFile(join(target, 'db-password'), 'utf8')).toBe(secretValues['db-password']);
      expect(await mountsUnder(target)).toHaveLength(1);
      expect(h.logs()).toMatch(/found an incomplete volume/);
    } finally {
      await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: target });
    }
    await expectClean(target);
  });

  it('files written but no pod status recorded (died before the status) are fetched and recorded on the next publish', async () => {
    const p = pod('half-1');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    await h.client.nodePublishVolume(req);
    // Simulate a fresh driver process: no record, and the status that never got written.
    h.driver.records.delete(req.target_path!);
    h.api.store.delete('secretproviderclasspodstatuses', 'default', 'half-1-default-app-secrets');
    await h.client.nodePublishVolume(req);
    expect(h.api.store.get('secretproviderclasspodstatuses', 'default', 'half-1-default-app-secrets')).toBeDefined();
    await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: req.target_path! });
  });

  it('a write killed after its ..data swap (no user-visible links, no pod status) is completed on the next publish', async () => {
    const p = pod('half-2');
    const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'app-secrets', pod: p });
    await h.client.nodePublishVolume(req);
    // A fresh driver process finds the payload and ..data but none of the links the pod
    // opens: the old one was killed between the swap and the links, before the status.
    h.driver.records.delete(req.target_path!);
    h.api.store.delete('secretproviderclasspodstatuses', 'default', 'half-2-default-app-secrets');
    for (const name of ['db-password', 'keys', 'tls.crt']) await rm(join(req.target_path!, name));
    await expect(readFile(join(req.target_path!, 'db-password'), 'utf8')).rejects.toThrow(/ENOENT/);
    await h.client.nodePublishVolume(req);
    const paths = { 'db-password': 'db-password', 'api-key': 'keys/api-key', 'tls.crt': 'tls.crt' } as const;
    for (const [name, path] of Object.entries(paths)) expect(await readFile(join(req.target_path!, path), 'utf8')).toBe(secretValues[name as keyof typeof secretValues]);
    await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: req.target_path! });
    await expectClean(req.target_path!);
  });
});

describe('NodeUnpublishVolume', () => {
  it('unmounts and removes the target; a second unpublish succeeds', async () => {
    const p = pod('gone-0');
    const target = h.target(p.uid);
    await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'app-secrets', pod: p }));
    expect(await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: target })).toEqual({});
    await expectClean(target);
    expect(await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: target })).toEqual({});
  });
});

describe('logs', () => {
  it('never contain a secret value, a token or a node-publish secret', () => {
    const logs = h.logs();
    expect(logs).toMatch(/node publish volume succeeded/);
    for (const v of [...Object.values(secretValues), 'node-publish-pass', 'node-publish-user', 'sa-token-from-context', 'token-in-secrets', 'token-in-context']) {
      expect(logs).not.toContain(v);
    }
  });

  it('say how long each step of a publish took', () => {
    const line = h.logs().split('\n').find((l) => l.includes('node publish volume succeeded'));
    const entry = JSON.parse(line!) as { ms: number; timings: Record<string, number>; outcome: string; objects: number };
    expect(entry.outcome).toBe('mounted');
    expect(Object.keys(entry.timings).sort()).toEqual(['mountMs', 'providerMs', 'spcMs', 'statusMs', 'writeMs']);
    for (const v of Object.values(entry.timings)) expect(v).toBeGreaterThanOrEqual(0);
    expect(entry.timings.providerMs).toBeGreaterThan(0);
    expect(Object.values(entry.timings).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(entry.ms + 0.1);
  });
});
