import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../log/logger.js';
import { startFakeProvider, type StartedFakeProvider } from '../../fake-providers/fake-provider.js';
import { nextVersion } from '../../fake-providers/store.js';
import { fakeAttributes, rawProviderClient } from '../helpers/provider-client.js';
import { startBin, type ManagedProcess as TestProcess } from '../../harness/managed-process.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const twoObjects = '- objectName: db-password\n  mode: "0600"\n- objectName: api-key\n  fileName: keys/api-key\n';

let tmp: TempRoot;
let provider: StartedFakeProvider;
let client: ReturnType<typeof rawProviderClient>;

const control = (path: string, init?: RequestInit) => fetch(`${provider.control}${path}`, init);
const put = (path: string, body: unknown) => control(path, { method: 'PUT', body: JSON.stringify(body) });

beforeAll(async () => {
  tmp = await makeTempRoot('fakeprov');
  provider = await startFakeProvider({
    name: 'fake',
    socket: join(tmp.path, 'fake.sock'),
    controlAddr: '127.0.0.1:0',
    logger: createLogger({ name: 'fake-provider', level: 'silent' }),
    objects: [
      { name: 'db-password', version: 'v1', contents: 'hunter2-secret' },
      { name: 'api-key', version: '7', contents: 'ak_123' },
      { name: 'blob', contentsBase64: Buffer.from([0, 1, 2, 255]).toString('base64') },
    ],
  });
  client = rawProviderClient(provider.socket);
});
afterEach(async () => {
  await control('/faults', { method: 'DELETE' });
});
afterAll(async () => {
  client?.close();
  await provider?.close();
  await tmp?.cleanup();
});

describe('fake provider over gRPC', () => {
  it('answers Version', async () => {
    expect(await client.version()).toMatchObject({ version: 'v1alpha1', runtime_name: 'fake-provider' });
  });

  it('mounts the requested objects with modes from the objects or the permission', async () => {
    const res = await client.mount({ attributes: fakeAttributes(twoObjects), secrets: '{}', permission: '420', target_path: '/t' });
    expect(res.error).toBeNull();
    expect(res.object_version).toEqual([
      { id: 'db-password', version: 'v1' },
      { id: 'api-key', version: '7' },
    ]);
    expect(res.files.map((f) => [f.path, f.mode, f.contents.toString()])).toEqual([
      ['db-password', 0o600, 'hunter2-secret'],
      ['keys/api-key', 420, 'ak_123'],
    ]);
  });

  it('serves binary objects byte for byte', async () => {
    const res = await client.mount({ attributes: fakeAttributes('- objectName: blob\n  mode: 256'), secrets: 'null', permission: '420' });
    expect([...res.files[0]!.contents]).toEqual([0, 1, 2, 255]);
    expect(res.files[0]!.mode).toBe(256);
  });

  it('accepts secrets as null, {} and a map', async () => {
    for (const secrets of ['null', '{}', '', '{"username":"u","password":"p"}']) {
      const res = await client.mount({ attributes: fakeAttributes('- objectName: api-key'), secrets, permission: '420' });
      expect(res.object_version).toHaveLength(1);
    }
  });

  it('fails an unknown object with NOT_FOUND naming it', async () => {
    await expect(client.mount({ attributes: fakeAttributes('- objectName: nope'), secrets: '{}', permission: '420' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: 'object "nope" not found in the fake provider\'s store',
    });
  });

  it('rejects malformed requests with INVALID_ARGUMENT', async () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ attributes: '{not json', secrets: '{}', permission: '420' }, /attributes is not valid JSON/],
      [{ attributes: JSON.stringify({}), secrets: '{}', permission: '420' }, /parameter "objects" is missing/],
      [{ attributes: fakeAttributes('objectName: x'), secrets: '{}', permission: '420' }, /must be a YAML list/],
      [{ attributes: fakeAttributes('- objectName: api-key\n  mode: "999"'), secrets: '{}', permission: '420' }, /octal string/],
      [{ attributes: fakeAttributes('- objectName: api-key'), secrets: '[1]', permission: '420' }, /secrets must be a JSON object/],
      [{ attributes: fakeAttributes('- objectName: api-key'), secrets: '{}', permission: '0644' }, /^permission must be a decimal/],
    ];
    for (const [req, msg] of bad) {
      const err = (await client.mount(req).catch((e) => e)) as grpc.ServiceError;
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(msg);
    }
  });
});

describe('fake provider control API', () => {
  it('reports state with secrets and tokens redacted', async () => {
    const tokens = JSON.stringify({ vault: { token: 'eyJhbGciOi.very-secret-token', expirationTimestamp: '2026-11-23T00:00:00Z' } });
    await client.mount({
      attributes: fakeAttributes('- objectName: api-key', { 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
      secrets: JSON.stringify({ password: 'node-publish-secret' }),
      permission: '420',
      current_object_version: [{ id: 'api-key', version: '6' }],
    });
    const res = await control('/state');
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const raw of ['node-publish-secret', 'very-secret-token', 'hunter2-secret', 'ak_123']) expect(text).not.toContain(raw);
    const state = JSON.parse(text);
    expect(state.objects).toEqual(expect.arrayContaining([{ name: 'db-password', version: 'v1' }, { name: 'api-key', version: '7' }]));
    expect(state.requests).toBeGreaterThan(0);
    expect(state.faults).toEqual([]);
    expect(state.lastRequest).toMatchObject({
      permission: '420',
      secrets: { password: `[redacted sha256:${sha16('node-publish-secret')}]` },
      currentObjectVersion: [{ id: 'api-key', version: '6' }],
    });
    expect(state.lastRequest.attributes['csi.storage.k8s.io/serviceAccount.tokens']).toEqual({
      vault: { token: `[redacted sha256:${sha16('eyJhbGciOi.very-secret-token')}]`, expirationTimestamp: '2026-11-23T00:00:00Z' },
    });
    expect(state.lastRequest.attributes['csi.storage.k8s.io/pod.name']).toBe('web-0');
  });

  it('changes objects: explicit version, advancing version, base64, delete', async () => {
    expect(await (await put('/objects/api-key', { contents: 'ak_456' })).json()).toEqual({ name: 'api-key', version: '8' });
    expect(await (await put('/objects/api-key', { contents: 'ak_789', version: 'rotated' })).json()).toEqual({ name: 'api-key', version: 'rotated' });
    expect(await (await put('/objects/new%20one', { contentsBase64: Buffer.from('n').toString('base64') })).json()).toEqual({ name: 'new one', version: '1' });
    const res = await client.mount({ attributes: fakeAttributes('- objectName: api-key\n- objectName: new one'), secrets: '{}', permission: '420' });
    expect(res.files.map((f) => f.contents.toString())).toEqual(['ak_789', 'n']);
    expect((await control('/objects/new%20one', { method: 'DELETE' })).status).toBe(204);
    expect((await control('/objects/new%20one', { method: 'DELETE' })).status).toBe(404);
    expect(nextVersion('v9')).toBe('v10');
    expect(nextVersion('beta')).toBe('beta.1');
  });

  it('validates control requests', async () => {
    const cases: Array<[Promise<Response>, number, RegExp]> = [
      [put('/faults', { mode: 'explode' }), 400, /mode must be one of/],
      [put('/faults', { mode: 'latency' }), 400, /latencyMs must be a non-negative number/],
      [put('/faults', { mode: 'error', count: 0 }), 400, /count must be a positive whole number/],
      [put('/faults', { mode: 'error', code: '' }), 400, /code must be a non-empty string/],
      [control('/faults', { method: 'PUT', body: '{' }), 400, /not valid JSON/],
      [put('/objects/x', { nothing: true }), 400, /set contents/],
      [control('/nowhere'), 404, /no route/],
      [control('/state', { method: 'POST' }), 405, /use GET/],
    ];
    for (const [res, status, msg] of cases) {
      const r = await res;
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: string }).error).toMatch(msg);
    }
  });
});

describe('fake provider faults', () => {
  const mount = () => client.mount({ attributes: fakeAttributes('- objectName: db-password'), secrets: '{}', permission: '420' }, 3000);

  it('unavailable, limited by count', async () => {
    expect((await put('/faults', { mode: 'unavailable', count: 1 })).status).toBe(200);
    expect(((await (await control("/state")).json()) as { faults: unknown[] }).faults).toEqual([{ mode: 'unavailable', count: 1 }]);
    await expect(mount()).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect((await mount()).object_version).toHaveLength(1);
    expect(((await (await control("/state")).json()) as { faults: unknown[] }).faults).toEqual([]);
  });

  it('error sets the provider error code', async () => {
    await put('/faults', { mode: 'error', code: 'Throttled' });
    const res = await mount();
    expect(res.error).toEqual({ code: 'Throttled' });
    expect(res.files).toEqual([]);
    await put('/faults', { mode: 'error' });
    expect((await mount()).error).toEqual({ code: 'FakeProviderError' });
  });

  it('latency delays the answer', async () => {
    await put('/faults', { mode: 'latency', latencyMs: 250 });
    const started = performance.now();
    await mount();
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('bad-path adds an escaping file; oversize a 5 MiB one', async () => {
    await put('/faults', { mode: 'bad-path', count: 1 });
    expect((await mount()).files.map((f) => f.path)).toContain('../escaped-secret');
    await put('/faults', { mode: 'oversize', count: 1 });
    await expect(mount()).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it('hold keeps Mount calls until the fault is replaced, then answers them; Version is not held', async () => {
    await put('/faults', { mode: 'hold' });
    const state = async () => (await (await control('/state')).json()) as { inflight: number; maxInflight: number };
    const inflightReaches = (n: number) => eventually(async () => (await state()).inflight === n, `${n} Mount calls held`, 5000);
    let answered = 0;
    const calls = Array.from({ length: 3 }, () => mount().then((r) => (answered++, r)));
    await inflightReaches(3);
    expect(await client.version(1000)).toMatchObject({ version: 'v1alpha1' });
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(0);
    await put('/faults', { mode: 'latency', latencyMs: 1 });
    const results = await Promise.all(calls);
    expect(results.map((r) => r.files.map((f) => f.contents.toString()))).toEqual(Array(3).fill(['hunter2-secret']));
    expect(await state()).toMatchObject({ inflight: 0 });
    // Cleared rather than replaced: held calls are answered too.
    await put('/faults', { mode: 'hold' });
    const held = mount();
    await inflightReaches(1);
    await control('/faults', { method: 'DELETE' });
    expect((await held).files.map((f) => f.path)).toEqual(['db-password']);
  });

  it('hang holds the call until the caller deadline, for Mount and Version', async () => {
    await put('/faults', { mode: 'hang' });
    await expect(client.mount({ attributes: fakeAttributes('- objectName: db-password'), secrets: '{}', permission: '420' }, 300)).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    await expect(client.version(300)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });
});

describe('fake-provider binary', () => {
  let proc: TestProcess;
  afterAll(async () => {
    await proc?.kill('SIGKILL');
  });

  it('starts, announces readiness on stdout, never logs secret bytes, and exits 0 on SIGTERM', async () => {
    const socket = join(tmp.path, 'bin', 'fake.sock');
    proc = startBin('fake-providers/main.js', ['--name', 'fake', '--socket', socket, '--control-addr', '127.0.0.1:0', '--log-format-json']);
    const line = await proc.waitForLine(/^\{"ready":true/);
    const ready = JSON.parse(line);
    expect(ready).toMatchObject({ ready: true, name: 'fake', socket });
    expect(ready.control).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await lstat(socket)).isSocket()).toBe(true);
    const c = rawProviderClient(socket);
    const res = await c.mount({ attributes: fakeAttributes('- objectName: db-password'), secrets: JSON.stringify({ pw: 'publish-secret-xyz' }), permission: '420' });
    c.close();
    const contents = res.files[0]!.contents.toString();
    expect(contents).toBe('correct-horse-battery-staple'); // from examples/store.yaml
    expect(await proc.kill('SIGTERM')).toBe(0);
    const output = proc.stdout() + proc.stderr();
    expect(output).toMatch(/"msg":"mount"/);
    expect(output).not.toContain(contents);
    expect(output).not.toContain('publish-secret-xyz');
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects unknown flags and a bad name', async () => {
    proc = startBin('fake-providers/main.js', ['--name', 'fake', '--socket', join(tmp.path, 'x.sock'), '--bogus']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/Unknown option '--bogus'/);
    proc = startBin('fake-providers/main.js', ['--name', '../evil', '--socket', join(tmp.path, 'y.sock')]);
    expect(await proc.exited()).toBe(1);
    expect(proc.stderr()).toMatch(/invalid provider name/);
  });
});
