/**
 * The driver's Kubernetes clients against the embedded API server, as the driver's service
 * account (RBAC enforced), with faults injected at the server: Retry-After is honoured on
 * any verb, reads are resent after a transient failure (at most twice), other writes are
 * not, except the pod status (safe to repeat) and events, recorded despite transient failures.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, retryAfterMs } from '../../driver/k8s/kube-client.js';
import { loadKubeConfig } from '../../driver/k8s/kube-config.js';
import { KubeNodeApi } from '../../driver/k8s/node-api.js';
import { KubeSecretsStoreApi } from '../../driver/k8s/secrets-store-api.js';
import { createLogger } from '../../log/logger.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let api: StartedSimApiServer;
let tmp: TempRoot;
let publishApi: KubeSecretsStoreApi;
let nodeApi: KubeNodeApi;
const driverUser = serviceAccountUser('kube-system', 'secrets-store-csi-driver').name;
const pod = { name: 'web-0', namespace: 'default', uid: '00000000-0000-4000-8000-000000000001' };

/** What the API server answered the driver for `resource`, since `from`. */
const answers = (resource: string, from: number) => api.requestLog.slice(from).filter((r) => r.user === driverUser && r.resource === resource).map((r) => `${r.verb} ${r.code}`);

beforeAll(async () => {
  tmp = await makeTempRoot('api-client');
  api = await new SimApiServer().start();
  const kubeconfig = join(tmp.path, 'driver-kubeconfig');
  await api.writeKubeconfig(kubeconfig, { token: api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver')) });
  const kc = new KubeClient(loadKubeConfig(kubeconfig));
  publishApi = new KubeSecretsStoreApi(kc);
  nodeApi = new KubeNodeApi(kc, createLogger({ name: 'test', level: 'silent' }));
  api.store.create('secretproviderclasses', { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'app', namespace: 'default' }, spec: { provider: 'fake', parameters: { a: 'b' } } });
});
afterEach(() => api.faults.clear());
afterAll(async () => {
  await api?.stop();
  await tmp?.cleanup();
});

describe('retryAfterMs', () => {
  it.each([
    [429, { 'retry-after': '2' }, 2000],
    [503, { 'retry-after': '1' }, 1000],
    [500, { 'retry-after': ' 3 ' }, 3000],
    [429, { 'retry-after': '120' }, 10_000],
    [429, {}, undefined],
    [409, { 'retry-after': '1' }, undefined],
    [200, { 'retry-after': '1' }, undefined],
    [429, { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }, undefined],
    [429, { 'retry-after': '-1' }, undefined],
    [429, { 'retry-after': '1.5' }, undefined],
  ] as const)('%i with %j waits %s ms', (status, headers, expected) => {
    expect(retryAfterMs(status, headers as Record<string, string>, 10_000)).toBe(expected);
  });
});

describe('the driver clients under API faults', () => {
  it('resends a read after up to two transient failures', async () => {
    const from = api.requestLog.length;
    api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 500, count: 1 });
    api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 503, count: 1 });
    expect((await publishApi.getSecretProviderClass('default', 'app')).spec.provider).toBe('fake');
    expect(answers('secretproviderclasses', from)).toEqual(['get 500', 'get 503', 'get 200']);
  });

  it('gives up on the third failure of a read, with the API\'s answer', async () => {
    const from = api.requestLog.length;
    api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 503, count: 5 });
    await expect(publishApi.getSecretProviderClass('default', 'app')).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/Kubernetes API answered 503/) });
    expect(answers('secretproviderclasses', from)).toEqual(['get 503', 'get 503', 'get 503']);
  });

  it('does not resend a write that failed without Retry-After (the caller decides)', async () => {
    const from = api.requestLog.length;
    api.faults.add({ verb: 'create', resource: 'secrets', code: 500, count: 1 });
    await expect(nodeApi.createSecret({ name: 's1', namespace: 'default', type: 'Opaque', data: {}, labels: {}, annotations: {}, ownerReferences: [] })).rejects.toMatchObject({ status: 500 });
    expect(answers('secrets', from)).toEqual(['create 500']);
  });

  it('records the pod status through transient failures of its create and replace (safe to repeat)', async () => {
    const status = (version: string) => ({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      metadata: { name: 'web-0-default-app', namespace: 'default', labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'n1' } },
      status: { podName: 'web-0', secretProviderClassName: 'app', targetPath: '/t', mounted: true, objects: [{ id: 'a', version }] },
    });
    let from = api.requestLog.length;
    api.faults.add({ verb: 'create', resource: 'secretproviderclasspodstatuses', code: 500, count: 1 });
    expect(await publishApi.upsertPodStatus(status('v1') as never)).toBe('created');
    expect(answers('secretproviderclasspodstatuses', from)).toEqual(['create 500', 'create 201']);
    from = api.requestLog.length;
    api.faults.add({ verb: 'update', resource: 'secretproviderclasspodstatuses', code: 503, count: 2 });
    expect(await publishApi.upsertPodStatus(status('v2') as never)).toBe('updated');
    expect(answers('secretproviderclasspodstatuses', from)).toEqual(['create 409', 'get 200', 'update 503', 'get 200', 'update 503', 'get 200', 'update 200']);
    expect((api.store.get('secretproviderclasspodstatuses', 'default', 'web-0-default-app')?.status as { objects: unknown }).objects).toEqual([{ id: 'a', version: 'v2' }]);
    from = api.requestLog.length;
    api.faults.add({ verb: 'update', resource: 'secretproviderclasspodstatuses', code: 500, count: 3 });
    await expect(publishApi.upsertPodStatus(status('v3') as never)).rejects.toMatchObject({ status: 500, message: expect.stringMatching(/failed to record SecretProviderClassPodStatus default\/web-0-default-app: Kubernetes API answered 500/) });
    expect(answers('secretproviderclasspodstatuses', from).filter((a) => a.startsWith('update'))).toEqual(['update 500', 'update 500', 'update 500']);
  });

  it('honours Retry-After on a write too', async () => {
    const from = api.requestLog.length;
    api.faults.add({ verb: 'patch', resource: 'secretproviderclasspodstatuses', code: 429, retryAfterSeconds: 1, count: 1 });
    api.store.create('secretproviderclasspodstatuses', { metadata: { name: 'annotated', namespace: 'default' }, status: {} });
    const started = performance.now();
    await nodeApi.annotatePodStatus('default', 'annotated', { note: 'x' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(answers('secretproviderclasspodstatuses', from)).toEqual(['patch 429', 'patch 200']);
    expect(api.store.get('secretproviderclasspodstatuses', 'default', 'annotated')?.metadata.annotations).toEqual({ note: 'x' });
  });

  it('records an event despite two transient failures of its create', async () => {
    const from = api.requestLog.length;
    api.faults.add({ verb: 'create', resource: 'events', code: 500, count: 1 });
    api.faults.add({ verb: 'create', resource: 'events', code: 409, count: 1 });
    await nodeApi.recordEvent(pod, 'Warning', 'SecretRotationFailed', 'rotation failed: Throttled');
    expect(answers('events', from)).toEqual(['create 500', 'create 409', 'create 201']);
    const events = api.store.list('events', { namespace: 'default' }).filter((e) => e.reason === 'SecretRotationFailed');
    expect(events.map((e) => e.message)).toEqual(['rotation failed: Throttled']);
  });

  it('does not retry an event the API refuses for good, and never throws', async () => {
    const from = api.requestLog.length;
    api.faults.add({ verb: 'create', resource: 'events', code: 403 });
    await nodeApi.recordEvent(pod, 'Normal', 'SecretRefreshed', 'refreshed');
    expect(answers('events', from)).toEqual(['create 403']);
  });
});
