/**
 * The embedded API server's REST semantics over real HTTP, raw and through
 * @kubernetes/client-node (what the driver uses).
 */
import { ApiException, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { apiRequest } from '../helpers/api-request.js';

let api: StartedSimApiServer;
let tmp: TempRoot;
let custom: CustomObjectsApi;
const base = '/apis/secrets-store.csi.x-k8s.io';
const spc = (name: string, ns = 'default') => ({
  apiVersion: 'secrets-store.csi.x-k8s.io/v1',
  kind: 'SecretProviderClass',
  metadata: { name, namespace: ns },
  spec: { provider: 'fake', parameters: { objects: '- objectName: a' } },
});
const req = (method: string, path: string, body?: unknown) => apiRequest(api, method, path, body === undefined ? {} : { body });

beforeAll(async () => {
  tmp = await makeTempRoot('apiserver');
  api = await new SimApiServer().start();
  const kubeconfig = join(tmp.path, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  custom = kc.makeApiClient(CustomObjectsApi);
});
afterEach(() => api.faults.clear());
afterAll(async () => {
  await api?.stop();
  await tmp?.cleanup();
});

describe('REST semantics', () => {
  it('creates with bookkeeping and serves one object under v1 and v1alpha1', async () => {
    const created = await req('POST', `${base}/v1/namespaces/default/secretproviderclasses`, spc('one'));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'one', namespace: 'default', generation: 1 });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const v1alpha1 = await req('GET', `${base}/v1alpha1/namespaces/default/secretproviderclasses/one`);
    expect(v1alpha1.body.apiVersion).toBe('secrets-store.csi.x-k8s.io/v1alpha1');
    expect(v1alpha1.body.metadata.uid).toBe(created.body.metadata.uid);
    const list = await req('GET', `${base}/v1/namespaces/default/secretproviderclasses`);
    expect(list.body.kind).toBe('SecretProviderClassList');
    expect(list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toContain('one');
  });

  it('answers Status objects for NotFound, AlreadyExists, Conflict and BadRequest', async () => {
    expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/missing`)).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'secretproviderclasses.secrets-store.csi.x-k8s.io "missing" not found',
      reason: 'NotFound',
      details: { name: 'missing', group: 'secrets-store.csi.x-k8s.io', kind: 'secretproviderclasses' },
      code: 404,
    });
    await req('POST', `${base}/v1/namespaces/default/secretproviderclasses`, spc('dup'));
    const dup = await req('POST', `${base}/v1/namespaces/default/secretproviderclasses`, spc('dup'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'secretproviderclasses.secrets-store.csi.x-k8s.io "dup" already exists' });
    const current = (await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/dup`)).body;
    const updated = await req('PUT', `${base}/v1/namespaces/default/secretproviderclasses/dup`, { ...current, spec: { provider: 'other' } });
    expect(updated.status).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(current.metadata.resourceVersion));
    expect(updated.body.metadata.generation).toBe(2);
    const stale = await req('PUT', `${base}/v1/namespaces/default/secretproviderclasses/dup`, current);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict' });
    expect(stale.body.message).toMatch(/the object has been modified; please apply your changes to the latest version and try again/);
    const wrongName = await req('PUT', `${base}/v1/namespaces/default/secretproviderclasses/dup`, { ...current, metadata: { ...current.metadata, name: 'other' } });
    expect(wrongName).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    expect((await req('GET', '/api/v1/namespaces/default/pods/nope')).body.message).toBe('pods "nope" not found');
  });

  it('refuses objects in a namespace that does not exist, and supports generateName', async () => {
    const r = await req('POST', `${base}/v1/namespaces/ghost/secretproviderclasses`, spc('x', 'ghost'));
    expect(r).toMatchObject({ status: 404, body: { message: 'namespaces "ghost" not found' } });
    const g = await req('POST', '/api/v1/namespaces/default/pods', { metadata: { generateName: 'web-' }, spec: {} });
    expect(g.body.metadata.name).toMatch(/^web-[0-9a-f]{5}$/);
  });

  it('injects faults by count, with Retry-After for 429, and latency', async () => {
    api.faults.add({ verb: 'get', resource: 'secretproviderclasses', code: 500, count: 2 });
    expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/one`)).status).toBe(500);
    expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/one`)).status).toBe(500);
    expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/one`)).status).toBe(200);
    api.faults.add({ verb: '*', resource: 'secretproviderclasses', code: 429, retryAfterSeconds: 3, count: 1 });
    const throttled = await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/one`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    api.faults.add({ verb: 'get', resource: 'secretproviderclasses', latencyMs: 200, count: 1 });
    const started = performance.now();
    expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/one`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  // Found by test/fuzz/sim-apiserver.fuzz.test.ts: each was a 500 or a dropped connection.
  it('answers a malformed %-escape in the path with 400, not 500', async () => {
    const r = await req('GET', '/api/v1/namespaces/%E0%A4%A/pods');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: expect.stringMatching(/malformed %-escape/) });
  });

  it('refuses a patch that would turn the object (or its metadata) into a non-object with 422', async () => {
    await req('POST', `${base}/v1/namespaces/default/secretproviderclasses`, spc('patched'));
    for (const [type, body] of [['application/merge-patch+json', 'null'], ['application/json-patch+json', '[{"op":"replace","path":"","value":3}]'], ['application/merge-patch+json', '{"metadata":"x"}']] as const) {
      const r = await apiRequest(api, 'PATCH', `${base}/v1/namespaces/default/secretproviderclasses/patched`, { body, contentType: type });
      expect(r.status, `${type} ${body}`).toBe(422);
    }
    expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/patched`)).body.spec.provider).toBe('fake');
  });

  it('refuses an object whose metadata, spec, status or data is not an object with 400', async () => {
    for (const [field, value] of [['metadata', 0], ['metadata', 'x'], ['metadata', []], ['spec', 'x'], ['status', true], ['data', [1]]] as const) {
      const r = await req('POST', '/api/v1/namespaces/default/pods', { [field]: value });
      expect(r.status, `${field}: ${JSON.stringify(value)}`).toBe(400);
      expect(r.body.message).toMatch(new RegExp(`${field} must be an object`));
    }
  });

  it('the rate mode fails a share of one identity\'s requests with a mix of faults, counted by kind', async () => {
    const user = 'system:serviceaccount:kube-system:faulty';
    const token = api.addIdentity({ name: user, groups: ['system:masters'] });
    const before = api.faults.injected();
    api.faults.setRandom({ user, rate: 0.5, latencyMs: 5 });
    const seen: Record<string, number> = {};
    const n = 400;
    for (let i = 0; i < n; i++) {
      // Reads and writes: a 409 only makes sense on a write.
      const write = i % 2 === 0;
      const r = write
        ? await apiRequest(api, 'POST', `${base}/v1/namespaces/default/secretproviderclasses`, { token, body: spc(`rate-${i}`) })
        : await apiRequest(api, 'GET', `${base}/v1/namespaces/default/secretproviderclasses/one`, { token });
      const key = `${write ? 'write' : 'read'} ${r.status}`;
      seen[key] = (seen[key] ?? 0) + 1;
      if (r.status === 429) expect(r.headers.get('retry-after')).toBe('1');
      if (r.status === 409) expect(r.body.reason).toBe('Conflict');
      if (r.status === 503) expect(r.body.reason).toBe('ServiceUnavailable');
    }
    // The admin is never faulted.
    for (let i = 0; i < 50; i++) expect((await req('GET', `${base}/v1/namespaces/default/secretproviderclasses/one`)).status).toBe(200);
    const after = api.faults.injected();
    const injected = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
    const failed = Object.entries(seen).filter(([k]) => !/ 20[01]$/.test(k)).reduce((a, [, v]) => a + v, 0);
    expect(failed).toBe(injected['409']! + injected['429']! + injected['500']! + injected['503']!);
    expect(seen['read 409']).toBeUndefined();
    expect(seen['write 409']).toBe(injected['409']);
    for (const kind of ['409', '429', '500', '503', 'latency']) expect(injected[kind], kind).toBeGreaterThan(5);
    // About half the requests meet a fault (binomial, n = 400: 200 ± 50 is beyond 5 sigma).
    const total = Object.values(injected).reduce((a, v) => a! + v!, 0)!;
    expect(total).toBeGreaterThan(150);
    expect(total).toBeLessThan(250);
    expect(() => api.faults.setRandom({ user, rate: 1.5 })).toThrow(/within 0\.\.1/);
  });
});

describe('through @kubernetes/client-node', () => {
  it('gets, creates and replaces custom objects; errors surface as ApiException with the Status', async () => {
    await custom.createNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1', namespace: 'default', plural: 'secretproviderclasses', body: spc('via-client') });
    const got = await custom.getNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1alpha1', namespace: 'default', plural: 'secretproviderclasses', name: 'via-client' });
    expect(got.spec.provider).toBe('fake');
    got.spec.provider = 'changed';
    const replaced = await custom.replaceNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1alpha1', namespace: 'default', plural: 'secretproviderclasses', name: 'via-client', body: got });
    expect(replaced.spec.provider).toBe('changed');
    const err = await custom
      .getNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1', namespace: 'default', plural: 'secretproviderclasses', name: 'absent' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(404);
    // client-node hands the Status over as JSON text; the driver parses its message.
    const body = (err as ApiException<unknown>).body;
    expect(typeof body).toBe('string');
    expect(JSON.parse(body as string)).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'secretproviderclasses.secrets-store.csi.x-k8s.io "absent" not found' });
  });
});
