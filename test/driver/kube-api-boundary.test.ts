/**
 * The driver's Kubernetes API boundary in-process, its API server mocked with msw: what
 * each failure of the API server becomes (one KubeApiError; its gRPC code only at the CSI
 * edge), which requests are sent again and with what, how the watches resume, re-list
 * and back off, and how the client is configured (a rotated token file, an http:// server,
 * a kubeconfig field it does not support).
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { http as mock, HttpResponse, type DefaultBodyType, type StrictRequest } from 'msw';
import { setupServer } from 'msw/node';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as nodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusOf } from '../../driver/csi-error.js';
import { KubeApiError } from '../../driver/k8s/api-error.js';
import { KubeClient } from '../../driver/k8s/kube-client.js';
import { fromKubeconfigFile, inClusterConfig, loadKubeConfig, type KubeConfig } from '../../driver/k8s/kube-config.js';
import { KubeNodeApi, type PodInfo } from '../../driver/k8s/node-api.js';
import { KubeSecretsStoreApi } from '../../driver/k8s/secrets-store-api.js';
import { buildPodStatus, type SecretProviderClassPodStatus } from '../../driver/k8s/types.js';
import { createLogger } from '../../log/logger.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const base = 'https://kube.test:6443';
const spcUrl = `${base}/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses/app`;
const spcpsCollection = `${base}/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasspodstatuses`;
const server = setupServer();
const logger = createLogger({ name: 'test', level: (process.env.TEST_LOG as 'info') ?? 'silent' });
let tmp: TempRoot;

const config = (over: Partial<KubeConfig> = {}): KubeConfig => ({ server: base, tls: { rejectUnauthorized: true }, auth: { token: 't0' }, source: 'test', ...over });
const status = (code: number, reason: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }, { status: code, headers });
const spc = { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'app', namespace: 'default' }, spec: { provider: 'fake' } };
const pod = (name: string, rv: string) => ({ metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: rv }, spec: { nodeName: 'n1', serviceAccountName: 'sa' } });

/** A watch stream: the events as JSON lines; `end` says how it finishes. */
function watchStream(events: unknown[], end: 'close' | 'drop' | 'hold'): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const e of events) controller.enqueue(enc.encode(`${JSON.stringify(e)}\n`));
      if (end === 'close') controller.close();
      if (end === 'drop') setTimeout(() => controller.error(new Error('connection reset')), 10);
    },
  });
  return new HttpResponse(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

/** The query of each request to `path` (list or watch), in order. */
function recorder() {
  const seen: Array<{ watch: boolean; resourceVersion: string | null; bookmarks: string | null; selector: string | null }> = [];
  return {
    seen,
    note(request: StrictRequest<DefaultBodyType>) {
      const q = new URL(request.url).searchParams;
      seen.push({ watch: q.get('watch') === '1', resourceVersion: q.get('resourceVersion'), bookmarks: q.get('allowWatchBookmarks'), selector: q.get('fieldSelector') ?? q.get('labelSelector') });
      return q.get('watch') === '1';
    },
  };
}

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  tmp = await makeTempRoot('kube-api-boundary');
});
afterEach(() => server.resetHandlers());
afterAll(async () => {
  server.close();
  await tmp?.cleanup();
});

describe('failures of the API server: one error type, gRPC codes only at the CSI edge', () => {
  it('401: unauthorized, says to check the token; UNAUTHENTICATED to the kubelet', async () => {
    server.use(mock.get(spcUrl, () => status(401, 'Unauthorized', 'Unauthorized')));
    const err = await new KubeSecretsStoreApi(new KubeClient(config())).getSecretProviderClass('default', 'app').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 401, reason: 'Unauthorized', message: "failed to get SecretProviderClass default/app: unauthorized: Unauthorized; check the driver's service account token or kubeconfig" });
    expect(statusOf(err)).toBe(grpcStatus.UNAUTHENTICATED);
  });

  it('403: forbidden with the RBAC hint; PERMISSION_DENIED to the kubelet', async () => {
    const denied = 'secretproviderclasses.secrets-store.csi.x-k8s.io "app" is forbidden: User "system:serviceaccount:kube-system:csi" cannot get resource';
    server.use(mock.get(spcUrl, () => status(403, 'Forbidden', denied)));
    const err = await new KubeSecretsStoreApi(new KubeClient(config())).getSecretProviderClass('default', 'app').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, reason: 'Forbidden', message: `failed to get SecretProviderClass default/app: forbidden: ${denied}; check the driver's ClusterRole and binding` });
    expect(statusOf(err)).toBe(grpcStatus.PERMISSION_DENIED);
  });

  it('404: a missing SecretProviderClass says where it must be (NOT_FOUND); a missing pod status is null', async () => {
    server.use(
      mock.get(spcUrl, () => status(404, 'NotFound', 'secretproviderclasses "app" not found')),
      mock.get(`${spcpsCollection}/:name`, () => status(404, 'NotFound', 'not found')),
    );
    const api = new KubeSecretsStoreApi(new KubeClient(config()));
    const err = await api.getSecretProviderClass('default', 'app').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, reason: 'NotFound', message: 'SecretProviderClass "app" not found in namespace "default": it must exist in the pod\'s namespace' });
    expect(statusOf(err)).toBe(grpcStatus.NOT_FOUND);
    expect(await api.getPodStatus('default', 'web-0-default-app')).toBeNull();
  });

  it('409 on a pod-status update: read again and replaced with the fresh resourceVersion', async () => {
    const sent: Array<string | undefined> = [];
    let stored = { ...buildPodStatus({ pod: { name: 'web-0', namespace: 'default', uid: 'u1' }, spcName: 'app', nodeId: 'n1', targetPath: '/t', objects: [{ id: 'a', version: 'v1' }] }) };
    stored.metadata = { ...stored.metadata, resourceVersion: '10' };
    server.use(
      mock.post(spcpsCollection, () => status(409, 'AlreadyExists', 'already exists')),
      mock.get(`${spcpsCollection}/web-0-default-app`, () => HttpResponse.json(stored)),
      mock.put(`${spcpsCollection}/web-0-default-app`, async ({ request }) => {
        const body = (await request.json()) as SecretProviderClassPodStatus;
        sent.push(body.metadata.resourceVersion);
        if (sent.length === 1) {
          // Someone else wrote in between: the object moved on to resourceVersion 11.
          stored = { ...stored, metadata: { ...stored.metadata, resourceVersion: '11', annotations: { other: 'writer' } } };
          return status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
        }
        stored = { ...body, metadata: { ...body.metadata, resourceVersion: '12' } };
        return HttpResponse.json(stored);
      }),
    );
    const wanted = buildPodStatus({ pod: { name: 'web-0', namespace: 'default', uid: 'u1' }, spcName: 'app', nodeId: 'n1', targetPath: '/t', objects: [{ id: 'a', version: 'v2' }] });
    expect(await new KubeSecretsStoreApi(new KubeClient(config())).upsertPodStatus(wanted)).toBe('updated');
    expect(sent).toEqual(['10', '11']);
    expect(stored.status.objects).toEqual([{ id: 'a', version: 'v2' }]);
    expect(stored.metadata.annotations).toEqual({ other: 'writer' });
  });

  it('429 with Retry-After: sent again after the seconds asked for, whatever the verb', async () => {
    const times: number[] = [];
    server.use(
      mock.patch(`${base}/api/v1/namespaces/default/secrets/s1`, ({ request }) => {
        times.push(performance.now());
        expect(request.headers.get('content-type')).toBe('application/strategic-merge-patch+json');
        return times.length === 1 ? status(429, 'TooManyRequests', 'slow down', { 'Retry-After': '1' }) : HttpResponse.json({ metadata: { name: 's1' } });
      }),
    );
    await new KubeNodeApi(new KubeClient(config()), logger).patchSecret('default', 's1', { metadata: { labels: { a: 'b' } } });
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
  });

  it('500 then 503 on a read: sent again; a third failure is thrown as UNAVAILABLE', async () => {
    let calls = 0;
    server.use(mock.get(spcUrl, () => (++calls === 1 ? status(500, 'InternalError', 'etcd hiccup') : calls === 2 ? status(503, 'ServiceUnavailable', 'overloaded') : HttpResponse.json(spc))));
    const api = new KubeSecretsStoreApi(new KubeClient(config()));
    expect((await api.getSecretProviderClass('default', 'app')).spec.provider).toBe('fake');
    expect(calls).toBe(3);
    calls = 0;
    server.use(mock.get(spcUrl, () => (++calls, status(503, 'ServiceUnavailable', 'overloaded'))));
    const err = await api.getSecretProviderClass('default', 'app').catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toMatchObject({ status: 503, message: 'failed to get SecretProviderClass default/app: Kubernetes API answered 503: overloaded' });
    expect(statusOf(err)).toBe(grpcStatus.UNAVAILABLE);
  });

  it('500 on a write without Retry-After: not sent again (the caller decides)', async () => {
    let calls = 0;
    server.use(mock.post(`${base}/api/v1/namespaces/default/secrets`, () => (++calls, status(500, 'InternalError', 'boom'))));
    const err = await new KubeNodeApi(new KubeClient(config()), logger)
      .createSecret({ name: 's1', namespace: 'default', type: 'Opaque', data: {}, labels: {}, annotations: {}, ownerReferences: [] })
      .catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toMatchObject({ status: 500, reason: 'InternalError', message: 'failed to create Secret default/s1: Kubernetes API answered 500: boom' });
  });
});

describe('watches', () => {
  const podsUrl = `${base}/api/v1/pods`;

  it('resume from the last resourceVersion (a bookmark\'s) after a stream drops mid-way, without listing again', async () => {
    const r = recorder();
    server.use(
      mock.get(podsUrl, ({ request }) => {
        if (!r.note(request)) return HttpResponse.json({ metadata: { resourceVersion: '5' }, items: [pod('a', '4')] });
        const watches = r.seen.filter((s) => s.watch).length;
        if (watches === 1) return watchStream([{ type: 'ADDED', object: pod('b', '6') }, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }], 'drop');
        return watchStream([{ type: 'MODIFIED', object: pod('a', '10') }], 'hold');
      }),
    );
    const upserts: string[] = [];
    const stop = new KubeNodeApi(new KubeClient(config()), logger).watchPods('spec.nodeName=n1', { upsert: (p: PodInfo) => upserts.push(p.name), remove: () => undefined });
    try {
      await eventually(() => upserts.length === 3, 'the event after the resumed watch');
      expect(upserts).toEqual(['a', 'b', 'a']);
      expect(r.seen).toEqual([
        { watch: false, resourceVersion: null, bookmarks: null, selector: 'spec.nodeName=n1' },
        { watch: true, resourceVersion: '5', bookmarks: 'true', selector: 'spec.nodeName=n1' },
        { watch: true, resourceVersion: '9', bookmarks: 'true', selector: 'spec.nodeName=n1' },
      ]);
    } finally {
      stop();
    }
  });

  it('list again on 410 Gone, and hear of what was deleted meanwhile', async () => {
    const r = recorder();
    server.use(
      mock.get(podsUrl, ({ request }) => {
        const watch = r.note(request);
        const lists = r.seen.filter((s) => !s.watch).length;
        if (!watch) return HttpResponse.json(lists === 1 ? { metadata: { resourceVersion: '5' }, items: [pod('a', '4'), pod('b', '5')] } : { metadata: { resourceVersion: '50' }, items: [pod('a', '4')] });
        // The first watch is told its version is compacted away (as an ERROR event); the
        // one after the relist just stays open.
        if (lists === 1) return watchStream([{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 5 (40)' } }], 'hold');
        return watchStream([], 'hold');
      }),
    );
    const upserts: string[] = [];
    const removed: string[] = [];
    const stop = new KubeNodeApi(new KubeClient(config()), logger).watchPods('spec.nodeName=n1', { upsert: (p) => upserts.push(p.name), remove: (p) => removed.push(p.name) });
    try {
      await eventually(() => r.seen.length === 4, 'the watch after the relist');
      expect(r.seen.map((s) => `${s.watch ? 'watch' : 'list'} ${s.resourceVersion}`)).toEqual(['list null', 'watch 5', 'list null', 'watch 50']);
      // a was unchanged (same resourceVersion): heard of once; b vanished: removed.
      expect(upserts).toEqual(['a', 'b']);
      expect(removed).toEqual(['b']);
    } finally {
      stop();
    }
  });

  it('back off when the server ends every watch as soon as it begins, resuming from where it was', async () => {
    const r = recorder();
    server.use(
      mock.get(podsUrl, ({ request }) =>
        r.note(request) ? watchStream([], 'close') : HttpResponse.json({ metadata: { resourceVersion: '5' }, items: [] }),
      ),
    );
    const stop = new KubeNodeApi(new KubeClient(config()), logger).watchPods('spec.nodeName=n1', { upsert: () => undefined, remove: () => undefined });
    try {
      await eventually(() => r.seen.length >= 3, 'two watches');
      const afterTwo = r.seen.length;
      // 0.5 s, then 1 s between attempts: a spinning client would have sent hundreds by now.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.seen.length).toBe(afterTwo);
      expect(r.seen.slice(1).every((s) => s.watch && s.resourceVersion === '5')).toBe(true);
    } finally {
      stop();
    }
  });

  it('back off after failed lists, then recover', async () => {
    const times: number[] = [];
    server.use(
      mock.get(`${base}/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasspodstatuses`, ({ request }) => {
        if (new URL(request.url).searchParams.get('watch') === '1') return watchStream([], 'hold');
        times.push(performance.now());
        // Each failing list is itself read three times (two resends); fail two whole lists.
        return times.length <= 6 ? status(500, 'InternalError', 'down') : HttpResponse.json({ metadata: { resourceVersion: '1' }, items: [] });
      }),
    );
    const stop = new KubeNodeApi(new KubeClient(config()), logger).watchPodStatuses('l=n1', { upsert: () => undefined, remove: () => undefined });
    try {
      await eventually(() => times.length === 7, 'the list after two backoffs');
      // 0.5 s after the first failed list, 1 s after the second.
      expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(450);
      expect(times[6]! - times[5]!).toBeGreaterThanOrEqual(950);
    } finally {
      stop();
    }
  });
});

describe('configuration', () => {
  it('re-reads a token file the kubelet rotated between requests', async () => {
    const tokenFile = join(tmp.path, 'token');
    writeFileSync(tokenFile, 'token-1\n');
    let valid = 'token-1';
    const seen: string[] = [];
    server.use(
      mock.get(spcUrl, ({ request }) => {
        const auth = request.headers.get('authorization') ?? '';
        seen.push(auth);
        return auth === `Bearer ${valid}` ? HttpResponse.json(spc) : status(401, 'Unauthorized', 'Unauthorized');
      }),
    );
    const api = new KubeSecretsStoreApi(new KubeClient(config({ auth: { tokenFile } })));
    await api.getSecretProviderClass('default', 'app');
    writeFileSync(tokenFile, 'token-2\n');
    valid = 'token-2';
    await api.getSecretProviderClass('default', 'app');
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
  });

  it('reads the in-cluster service account: its address, CA and token file', () => {
    const dir = join(tmp.path, 'sa');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token'), 'sa-token');
    writeFileSync(join(dir, 'ca.crt'), 'CA BYTES');
    const c = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(c).toMatchObject({ server: 'https://[fd00::1]:443', tls: { ca: Buffer.from('CA BYTES'), rejectUnauthorized: true }, auth: { tokenFile: join(dir, 'token') } });
  });

  it('reads a kubeconfig: token, client certificate files, CA data, insecure-skip-tls-verify, tls-server-name', () => {
    writeFileSync(join(tmp.path, 'client.crt'), 'CERT');
    writeFileSync(join(tmp.path, 'client.key'), 'KEY');
    const path = join(tmp.path, 'kubeconfig-full');
    writeFileSync(
      path,
      `apiVersion: v1
kind: Config
current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://10.0.0.1:6443/", certificate-authority-data: ${Buffer.from('CA').toString('base64')}, insecure-skip-tls-verify: true, tls-server-name: kubernetes } }]
users: [{ name: u, user: { token: abc, client-certificate: client.crt, client-key: ${join(tmp.path, 'client.key')} } }]
`,
    );
    expect(fromKubeconfigFile(path, '--kubeconfig')).toEqual({
      server: 'https://10.0.0.1:6443',
      tls: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), rejectUnauthorized: false, servername: 'kubernetes' },
      auth: { token: 'abc' },
      source: path,
    });
  });

  it.each([
    ['exec', 'exec: { command: aws, apiVersion: client.authentication.k8s.io/v1 }'],
    ['auth-provider', 'auth-provider: { name: gcp }'],
  ])('refuses a kubeconfig whose user has %s, naming the field', (field, user) => {
    const path = join(tmp.path, `kubeconfig-${field}`);
    writeFileSync(path, `current-context: c\ncontexts: [{ name: c, context: { cluster: k, user: u } }]\nclusters: [{ name: k, cluster: { server: "https://k:6443" } }]\nusers: [{ name: u, user: { ${user} } }]\n`);
    expect(() => loadKubeConfig(path)).toThrow(`--kubeconfig ${path}: user field "${field}" is not supported by the driver: give it a token, tokenFile or client certificate`);
  });

  it('talks to a plain http:// server over one keep-alive connection', async () => {
    // A real server, not msw: what is checked is the socket the agent keeps.
    const sockets = new Set<unknown>();
    const real = nodeHttp.createServer((req, res) => {
      sockets.add(req.socket);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.headers.authorization === 'Bearer plain' ? spc : { code: 401 }));
    });
    await new Promise<void>((resolve) => real.listen(0, '127.0.0.1', resolve));
    server.close(); // let this test's requests reach the real server
    const path = join(tmp.path, 'kubeconfig-http');
    writeFileSync(path, `current-context: c\ncontexts: [{ name: c, context: { cluster: k, user: u } }]\nclusters: [{ name: k, cluster: { server: "http://127.0.0.1:${(real.address() as AddressInfo).port}" } }]\nusers: [{ name: u, user: { token: plain } }]\n`);
    const client = new KubeClient(loadKubeConfig(path));
    try {
      const api = new KubeSecretsStoreApi(client);
      for (let i = 0; i < 5; i++) expect((await api.getSecretProviderClass('default', 'app')).spec.provider).toBe('fake');
      expect(sockets.size).toBe(1);
    } finally {
      client.close();
      real.closeAllConnections();
      await new Promise((resolve) => real.close(resolve));
      server.listen({ onUnhandledRequest: 'error' });
    }
  });

  it('sends at most 16 requests at once, over at most 16 connections; watches have connections of their own', async () => {
    // A real server that holds every GET until 20 requests wait (or 2 s pass): requests
    // beyond the bound wait in the client for a connection, and a watch is not one of them.
    const sockets = new Set<unknown>();
    let inFlight = 0;
    let peak = 0;
    const held: Array<() => void> = [];
    const release = () => held.splice(0).forEach((answer) => answer());
    const real = nodeHttp.createServer((req, res) => {
      sockets.add(req.socket);
      if (req.url?.includes('watch=1')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } })}\n`);
        return; // held open until the client ends it
      }
      inFlight++;
      peak = Math.max(peak, inFlight);
      held.push(() => {
        inFlight--;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(spc));
      });
    });
    await new Promise<void>((resolve) => real.listen(0, '127.0.0.1', resolve));
    server.close();
    const path = join(tmp.path, 'kubeconfig-bound');
    writeFileSync(path, `current-context: c\ncontexts: [{ name: c, context: { cluster: k, user: u } }]\nclusters: [{ name: k, cluster: { server: "http://127.0.0.1:${(real.address() as AddressInfo).port}" } }]\nusers: [{ name: u, user: { token: plain } }]\n`);
    const client = new KubeClient(loadKubeConfig(path));
    const stopWatches = new AbortController();
    try {
      // 20 watches first: were they in the requests' pool, no GET below could be sent.
      const bookmarks: string[] = [];
      const watches = Array.from({ length: 20 }, () =>
        client.watch('/api/v1/pods', { allowWatchBookmarks: 'true' }, (e) => bookmarks.push(e.type), stopWatches.signal),
      );
      await eventually(() => bookmarks.length === 20, 'a bookmark from each of the 20 watches', 5_000);
      const api = new KubeSecretsStoreApi(client);
      const gets = Array.from({ length: 50 }, () => api.getSecretProviderClass('default', 'app'));
      // The first 16 reach the server; the rest wait for a connection.
      await eventually(() => held.length === 16, '16 requests at the server', 5_000);
      const pump = setInterval(release, 5);
      try {
        const answers = await Promise.all(gets);
        expect(answers.every((a) => a.spec.provider === 'fake')).toBe(true);
      } finally {
        clearInterval(pump);
      }
      expect(peak).toBe(16);
      expect(sockets.size).toBe(20 + 16);
      stopWatches.abort();
      await Promise.all(watches);
    } finally {
      stopWatches.abort();
      release();
      client.close();
      real.closeAllConnections();
      await new Promise((resolve) => real.close(resolve));
      server.listen({ onUnhandledRequest: 'error' });
    }
  });
});
