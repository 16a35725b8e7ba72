/**
 * What client-go (and so controller-runtime, and upstream's driver) sends that kubectl does
 * not: watch bookmarks decoded with the watched type, WatchList (`sendInitialEvents`) and
 * `resourceVersionMatch` with kube-apiserver's validation, and request bodies in Kubernetes'
 * protobuf encoding for built-in kinds. The protobuf bodies here are put together byte by
 * byte from the wire rules (magic `k8s\0`, runtime.Unknown, core/v1 field numbers), not
 * with the server's own schema.
 */
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { apiRequest, apiWatch } from '../helpers/api-request.js';
import { bytesField, k8sProtobuf, mapEntry, openK8sProtobuf, protobufType, stringField, varintField } from '../helpers/protobuf-wire.js';

let api: StartedSimApiServer;
beforeAll(async () => {
  api = await new SimApiServer().start();
});
afterAll(async () => {
  await api?.stop();
});


describe('watch bookmarks', () => {
  it('carry an object of the watched kind and version with the current resourceVersion (client-go decodes them with the watched type)', async () => {
    const w = await apiWatch(api, '/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasspodstatuses?watch=true&allowWatchBookmarks=true&resourceVersion=1');
    try {
      let e = await w.next(5000);
      while (e.type !== 'BOOKMARK') e = await w.next(5000);
      expect(e.object.kind).toBe('SecretProviderClassPodStatus');
      expect(e.object.apiVersion).toBe('secrets-store.csi.x-k8s.io/v1');
      expect(e.object.metadata.resourceVersion).toMatch(/^\d+$/);
    } finally {
      w.close();
    }
  });
});

describe('watch headers', () => {
  it('come at once, before any event (client-go\'s Watch() returns on them): a watch from the current version with nothing to send', async () => {
    const path = '/api/v1/namespaces/default/serviceaccounts';
    const rv = (await apiRequest(api, 'GET', path)).body.metadata.resourceVersion as string;
    const w = await Promise.race([apiWatch(api, `${path}?watch=true&resourceVersion=${rv}`), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no response headers within 2 s')), 2000))]);
    try {
      expect(w.status).toBe(200);
      await apiRequest(api, 'POST', path, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'late' } } });
      expect(await w.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'late' } } });
    } finally {
      w.close();
    }
  });
});

describe('WatchList and resourceVersionMatch', () => {
  const spcs = '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses';
  const spc = (name: string) => ({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name, labels: { set: 'wl' } }, spec: { provider: 'fake', parameters: {} } });

  it('sendInitialEvents: the current objects as ADDED, a bookmark annotated initial-events-end at their version, then live events', async () => {
    await apiRequest(api, 'POST', spcs, { body: spc('wl-a') });
    const b = await apiRequest(api, 'POST', spcs, { body: spc('wl-b') });
    // Even with an old resourceVersion the state sent is the current one ("not older than").
    const w = await apiWatch(api, `${spcs}?watch=true&labelSelector=set%3Dwl&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=1`);
    try {
      const first = [await w.next(), await w.next()];
      expect(first.map((e) => [e.type, e.object.metadata.name]).sort()).toEqual([['ADDED', 'wl-a'], ['ADDED', 'wl-b']]);
      const end = await w.next();
      expect(end).toMatchObject({ type: 'BOOKMARK', object: { kind: 'SecretProviderClass', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
      expect(Number(end.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(b.body.metadata.resourceVersion));
      await apiRequest(api, 'DELETE', `${spcs}/wl-a`);
      let next = await w.next();
      while (next.type === 'BOOKMARK') next = await w.next();
      expect([next.type, next.object.metadata.name]).toEqual(['DELETED', 'wl-a']);
    } finally {
      w.close();
    }
  });

  it('sendInitialEvents=false without a resourceVersion: only what changes from now', async () => {
    const w = await apiWatch(api, `${spcs}?watch=true&labelSelector=set%3Dwl&sendInitialEvents=false&resourceVersionMatch=NotOlderThan`);
    try {
      await apiRequest(api, 'POST', spcs, { body: spc('wl-c') });
      expect(await w.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'wl-c' } } });
    } finally {
      w.close();
    }
  });

  it('refuses what kube-apiserver refuses, with 422 Invalid naming the rule', async () => {
    const cases: Array<[string, RegExp]> = [
      [`${spcs}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`, /sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/],
      [`${spcs}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`, /resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/],
      [`${spcs}?resourceVersionMatch=NotOlderThan`, /resourceVersionMatch is forbidden unless resourceVersion is provided/],
      [`${spcs}?resourceVersionMatch=Exact&resourceVersion=0`, /resourceVersionMatch "exact" is forbidden for resourceVersion "0"/],
      [`${spcs}?resourceVersionMatch=Sometimes&resourceVersion=5`, /Unsupported value: "Sometimes"/],
      [`${spcs}?sendInitialEvents=true`, /sendInitialEvents is forbidden for list/],
    ];
    for (const [path, message] of cases) {
      const res = await apiRequest(api, 'GET', path);
      expect(res.status, path).toBe(422);
      expect(res.body, path).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
      expect(res.body.message, path).toMatch(message);
    }
  });

  it('lists NotOlderThan from the current state; Exact only at the current version, else 410 Expired', async () => {
    const list = await apiRequest(api, 'GET', `${spcs}?resourceVersionMatch=NotOlderThan&resourceVersion=1`);
    expect(list.status).toBe(200);
    const rv = list.body.metadata.resourceVersion as string;
    expect((await apiRequest(api, 'GET', `${spcs}?resourceVersionMatch=Exact&resourceVersion=${rv}`)).status).toBe(200);
    const old = await apiRequest(api, 'GET', `${spcs}?resourceVersionMatch=Exact&resourceVersion=1`);
    expect(old).toMatchObject({ status: 410, body: { reason: 'Expired' } });
  });
});

describe('list pagination (limit and continue)', () => {
  const sas = '/api/v1/namespaces/paged/serviceaccounts';
  beforeAll(async () => {
    await apiRequest(api, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } } });
    for (const n of ['sa-c', 'sa-a', 'sa-e', 'sa-b', 'sa-d']) await apiRequest(api, 'POST', sas, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: n, labels: { paged: 'yes' } } } });
    // The control plane adds the namespace's default ServiceAccount: wait for it, so the counts hold.
    const until = Date.now() + 5000;
    while ((await apiRequest(api, 'GET', `${sas}/default`)).status !== 200) {
      if (Date.now() > until) throw new Error('no default ServiceAccount in namespace paged');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  const names = (body: Record<string, any>) => (body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name).filter((n) => n !== 'default');

  it('a consistent read pages in key order with continue and remainingItemCount, every page at the first page\'s version', async () => {
    const seen: string[] = [];
    let res = await apiRequest(api, 'GET', `${sas}?limit=2`);
    const rv = res.body.metadata.resourceVersion as string;
    expect(res.body.items).toHaveLength(2);
    expect(res.body.metadata.remainingItemCount).toBe(4); // 6 with the namespace's default ServiceAccount
    for (;;) {
      seen.push(...(res.body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name));
      expect(res.body.metadata.resourceVersion).toBe(rv);
      const token = res.body.metadata.continue as string | undefined;
      if (!token) break;
      res = await apiRequest(api, 'GET', `${sas}?limit=2&continue=${encodeURIComponent(token)}`);
    }
    expect(seen).toEqual(['default', 'sa-a', 'sa-b', 'sa-c', 'sa-d', 'sa-e']);
  });

  it('leaves remainingItemCount out with a selector; ignores limit on a read from the cache (resourceVersion=0)', async () => {
    const selected = await apiRequest(api, 'GET', `${sas}?limit=2&labelSelector=paged%3Dyes`);
    expect(names(selected.body)).toEqual(['sa-a', 'sa-b']);
    expect(selected.body.metadata.continue).toEqual(expect.any(String));
    expect(selected.body.metadata).not.toHaveProperty('remainingItemCount');
    const cached = await apiRequest(api, 'GET', `${sas}?limit=2&resourceVersion=0`);
    expect(names(cached.body)).toEqual(['sa-a', 'sa-b', 'sa-c', 'sa-d', 'sa-e']);
    expect(cached.body.metadata).not.toHaveProperty('continue');
  });

  it('refuses a continue token with a resourceVersion, and a token it did not make (400)', async () => {
    const first = await apiRequest(api, 'GET', `${sas}?limit=2`);
    const withRv = await apiRequest(api, 'GET', `${sas}?limit=2&resourceVersion=1&continue=${encodeURIComponent(first.body.metadata.continue as string)}`);
    expect(withRv).toMatchObject({ status: 400, body: { message: 'specifying resource version is not allowed when using continue' } });
    const bogus = await apiRequest(api, 'GET', `${sas}?limit=2&continue=not-a-token`);
    expect(bogus.status).toBe(400);
    expect(bogus.body.message).toMatch(/^continue key is not valid/);
  });
});

describe('protobuf request bodies', () => {
  it('creates a Secret sent as protobuf, as controller-runtime sends built-in kinds, and answers protobuf', async () => {
    const meta = Buffer.concat([
      bytesField(1, 'synced'), // name
      bytesField(2, ''), // generateName: Go encodes empty strings too
      bytesField(4, ''), // selfLink
      mapEntry(11, 'secrets-store.csi.k8s.io/managed', 'true'), // labels
      bytesField(13, Buffer.concat([bytesField(1, 'Pod'), bytesField(3, 'web'), bytesField(4, 'uid-1'), bytesField(5, 'v1')])), // ownerReferences
    ]);
    const secret = Buffer.concat([bytesField(1, meta), mapEntry(2, 'password', Buffer.from([0, 1, 2, 255])), bytesField(3, 'Opaque')]);
    const created = await apiRequest(api, 'POST', '/api/v1/namespaces/default/secrets', { body: k8sProtobuf('v1', 'Secret', secret), contentType: protobufType, accept: `${protobufType}, */*` });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('content-type')).toBe(protobufType);
    const answer = openK8sProtobuf(created.raw);
    expect([answer.apiVersion, answer.kind]).toEqual(['v1', 'Secret']);
    expect(stringField(answer.object, 3)).toBe('Opaque'); // type
    const got = await apiRequest(api, 'GET', '/api/v1/namespaces/default/secrets/synced');
    expect(got.body).toMatchObject({ kind: 'Secret', apiVersion: 'v1', type: 'Opaque', data: { password: Buffer.from([0, 1, 2, 255]).toString('base64') } });
    expect(got.body.metadata.labels).toEqual({ 'secrets-store.csi.k8s.io/managed': 'true' });
    expect(got.body.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'uid-1' }]);
    expect(got.body.metadata).not.toHaveProperty('generateName');
    expect(got.body.metadata).not.toHaveProperty('selfLink');
    expect(got.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('updates with a protobuf body and deletes with protobuf DeleteOptions', async () => {
    const rv = (await apiRequest(api, 'GET', '/api/v1/namespaces/default/secrets/synced')).body.metadata.resourceVersion as string;
    const meta = Buffer.concat([bytesField(1, 'synced'), bytesField(3, 'default'), bytesField(6, rv)]);
    const put = await apiRequest(api, 'PUT', '/api/v1/namespaces/default/secrets/synced', { body: k8sProtobuf('v1', 'Secret', Buffer.concat([bytesField(1, meta), mapEntry(2, 'password', 'new'), bytesField(3, 'Opaque')])), contentType: protobufType });
    expect(put.status, put.text).toBe(200);
    expect(put.body.data).toEqual({ password: Buffer.from('new').toString('base64') });
    const options = Buffer.concat([bytesField(4, 'Background')]); // propagationPolicy
    const del = await apiRequest(api, 'DELETE', '/api/v1/namespaces/default/secrets/synced', { body: k8sProtobuf('v1', 'DeleteOptions', options), contentType: protobufType });
    expect(del.status, del.text).toBe(200);
    expect((await apiRequest(api, 'GET', '/api/v1/namespaces/default/secrets/synced')).status).toBe(404);
  });

  it('decodes an Event with its timestamps', async () => {
    const time = (s: number) => varintField(1, s);
    const event = Buffer.concat([
      bytesField(1, Buffer.concat([bytesField(1, 'web.1'), bytesField(3, 'default')])),
      bytesField(2, Buffer.concat([bytesField(1, 'Pod'), bytesField(2, 'default'), bytesField(3, 'web')])),
      bytesField(3, 'FailedToCreateSecret'),
      bytesField(4, 'no such file'),
      bytesField(6, time(1_700_000_000)),
      bytesField(7, time(1_700_000_001)),
      varintField(8, 2),
      bytesField(9, 'Warning'),
    ]);
    const res = await apiRequest(api, 'POST', '/api/v1/namespaces/default/events', { body: k8sProtobuf('v1', 'Event', event), contentType: protobufType });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ reason: 'FailedToCreateSecret', type: 'Warning', count: 2, involvedObject: { kind: 'Pod', name: 'web' }, firstTimestamp: '2023-11-14T22:13:20Z', lastTimestamp: '2023-11-14T22:13:21Z' });
  });

  it('refuses a kind it has no schema for with 415 and says to send JSON; a body without the magic is 400', async () => {
    const res = await apiRequest(api, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { body: k8sProtobuf('rbac.authorization.k8s.io/v1', 'ClusterRole', bytesField(1, bytesField(1, 'r'))), contentType: protobufType });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
    expect(res.body.message).toMatch(/send application\/json/);
    const bad = await apiRequest(api, 'POST', '/api/v1/namespaces/default/secrets', { body: '{"kind":"Secret"}', contentType: protobufType });
    expect(bad.status).toBe(400);
  });
});

describe('idle keep-alive connections', () => {
  /** One HTTP/1.1 exchange on an open TLS socket: the status and body of the answer (Content-Length framed). */
  function exchange(socket: TLSSocket, request: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        if (buf.length < end + 4 + length) return;
        done();
        resolve({ status: Number(head.split(' ')[1]), body: buf.subarray(end + 4, end + 4 + length).toString('utf8') });
      };
      const onEnd = () => {
        done();
        reject(new Error('the server closed the connection'));
      };
      const done = () => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('error', onEnd);
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('error', onEnd);
      socket.write(request);
    });
  }

  it('stay open past 7 s (kube-apiserver keeps them 90 s, as Go clients do): a POST on a connection idle that long is served', async () => {
    const { hostname: host, port } = new URL(api.url);
    const socket = connect({ host, port: Number(port), ca: api.ca });
    let closedAfterMs: number | undefined;
    const opened = Date.now();
    socket.on('close', () => (closedAfterMs = Date.now() - opened));
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const auth = `Authorization: Bearer ${api.adminToken}\r\n`;
      const first = await exchange(socket, `GET /api/v1/namespaces/default/secrets HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n`);
      expect(first.status).toBe(200);
      // Longer than Node's default idle timeout with its buffer (5 s + 1 s).
      await new Promise((resolve) => setTimeout(resolve, 7000));
      expect(closedAfterMs, 'the server closed the idle connection').toBeUndefined();
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'after-idle' }, stringData: { k: 'v' } });
      const second = await exchange(socket, `POST /api/v1/namespaces/default/secrets HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      expect(second.status).toBe(201);
      expect(JSON.parse(second.body).metadata.name).toBe('after-idle');
    } finally {
      socket.destroy();
    }
  }, 20_000);
});
