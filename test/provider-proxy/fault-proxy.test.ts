/**
 * The fault proxy through real sockets: a recording raw provider behind it shows the bytes,
 * the deadline, the `:authority` and the metadata pass through unchanged; the fake
 * provider behind it shows each fault mode (and `count`) does what the fake provider's own
 * faults do, scripted through the proxy's control API.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { rawUnaryMethod } from '../../harness/grpc-echo.js';
import { createLogger } from '../../log/logger.js';
import { startFakeProvider, type StartedFakeProvider } from '../../fake-providers/fake-provider.js';
import { startFaultProxy, type StartedFaultProxy } from '../../provider-proxy/fault-proxy.js';
import { ControlClient } from '../../fake-providers/control-client.js';
import type { Fault } from '../../fake-providers/faults.js';
import { fakeAttributes, rawProviderClient } from '../helpers/provider-client.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const silent = createLogger({ name: 'test', level: 'silent' });
const mountPath = '/v1alpha1.CSIDriverProvider/Mount';
const rawService = { Mount: rawUnaryMethod(mountPath), Version: rawUnaryMethod('/v1alpha1.CSIDriverProvider/Version') };

/** A MountRequest with a field no v1alpha1 message has (99): a decode and re-encode would drop it. */
function requestWithUnknownField(): Buffer {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(JSON.stringify({ objects: 'x' }));
  w.uint32((4 << 3) | 2).string('420');
  w.uint32((99 << 3) | 2).bytes(Buffer.from([0, 1, 2, 255]));
  return Buffer.from(w.finish());
}
/** A MountResponse whose file contents are binary and which carries an unknown field 77. */
function replyWithUnknownField(): Buffer {
  const file = protobuf.Writer.create();
  file.uint32((1 << 3) | 2).string('bin');
  file.uint32((3 << 3) | 2).bytes(Buffer.from([255, 0, 254, 10]));
  const w = protobuf.Writer.create();
  w.uint32((3 << 3) | 2).bytes(file.finish());
  w.uint32((77 << 3) | 0).uint32(12345);
  return Buffer.from(w.finish());
}

interface Seen {
  request: Buffer;
  authority: string;
  deadline: grpc.Deadline;
  metadata: Record<string, unknown>;
}

let tmp: TempRoot;
let recorder: grpc.Server;
const seen: Seen[] = [];
let fake: StartedFakeProvider;
let rawProxy: StartedFaultProxy;
let proxy: StartedFaultProxy;

let control: ControlClient;
const state = () => control.state();
const setFault = (fault: Fault) => control.setFault(fault);
const mountReq = (objects = '- objectName: api-key') => ({ attributes: fakeAttributes(objects), secrets: '{}', permission: '420', target_path: '/t' });

beforeAll(async () => {
  tmp = await makeTempRoot('faultproxy');
  recorder = new grpc.Server();
  recorder.addService(rawService, {
    Mount: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      seen.push({ request: call.request, authority: call.getHost(), deadline: call.getDeadline(), metadata: call.metadata.getMap() });
      cb(null, replyWithUnknownField());
    },
    Version: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.PERMISSION_DENIED, details: 'authority check failed' }),
  });
  await bindUnixSocket(recorder, join(tmp.path, 'recorder.sock'));
  rawProxy = await startFaultProxy({ socket: join(tmp.path, 'raw-proxy.sock'), upstream: join(tmp.path, 'recorder.sock'), logger: silent });
  fake = await startFakeProvider({ name: 'fake', socket: join(tmp.path, 'fake.sock'), logger: silent, objects: [{ name: 'api-key', version: '7', contents: 'ak_123' }] });
  proxy = await startFaultProxy({ socket: join(tmp.path, 'proxy.sock'), upstream: fake.socket, controlAddr: '127.0.0.1:0', logger: silent });
  control = new ControlClient(proxy.control!);
});
afterEach(async () => {
  await control.clearFault();
});
afterAll(async () => {
  await proxy?.close();
  await rawProxy?.close();
  await fake?.close();
  if (recorder) await shutdownServer(recorder, 1000);
  await tmp?.cleanup();
});

describe('fault proxy passthrough', () => {
  it('forwards request and reply byte for byte, with the deadline, the :authority and the metadata', async () => {
    const Client = grpc.makeGenericClientConstructor(rawService, 'CSIDriverProvider');
    const client = new Client(`unix://${rawProxy.socket}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'localhost' }) as unknown as grpc.Client & {
      Mount: (req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void;
    };
    const md = new grpc.Metadata();
    md.set('x-trace', 'abc');
    const deadline = Date.now() + 7000;
    const request = requestWithUnknownField();
    const reply = await new Promise<Buffer>((resolve, reject) => client.Mount(request, md, { deadline }, (err, res) => (err ? reject(err) : resolve(res!))));
    client.close();
    expect(reply.equals(replyWithUnknownField())).toBe(true);
    const at = seen.at(-1)!;
    expect(at.request.equals(request)).toBe(true);
    expect(at.authority).toBe('localhost');
    expect(at.metadata['x-trace']).toBe('abc');
    // The provider sees the caller's deadline (gRPC sends it as a timeout: give or take transit and rounding).
    expect(Math.abs(new Date(at.deadline).getTime() - deadline)).toBeLessThan(1000);
  });

  it("passes the provider's gRPC status on unchanged", async () => {
    const c = rawProviderClient(rawProxy.socket);
    await expect(c.version()).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'authority check failed' });
    c.close();
    const f = rawProviderClient(proxy.socket);
    await expect(f.mount(mountReq('- objectName: nope'))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'object "nope" not found in the fake provider\'s store' });
    f.close();
  });

  it('without a fault answers what the provider answers', async () => {
    const direct = rawProviderClient(fake.socket);
    const via = rawProviderClient(proxy.socket);
    expect(await via.mount(mountReq())).toEqual(await direct.mount(mountReq()));
    expect(await via.version()).toEqual(await direct.version());
    direct.close();
    via.close();
  });
});

describe('fault proxy faults', () => {
  let client: ReturnType<typeof rawProviderClient>;
  beforeAll(() => {
    client = rawProviderClient(proxy.socket);
  });
  afterAll(() => client.close());

  it('unavailable: UNAVAILABLE without calling the provider, for Mount and Version', async () => {
    const before = fake.service.requests;
    expect(await setFault({ mode: 'unavailable' })).toEqual({ mode: 'unavailable' });
    await expect(client.mount(mountReq())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(/injected fault unavailable/) });
    await expect(client.version()).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(fake.service.requests).toBe(before);
  });

  it("error: the provider's object versions, no files, the error code", async () => {
    await setFault({ mode: 'error', code: 'Throttled' });
    const res = await client.mount(mountReq());
    expect(res.error).toEqual({ code: 'Throttled' });
    expect(res.files).toEqual([]);
    expect(res.object_version).toEqual([{ id: 'api-key', version: '7' }]);
  });

  it('latency: answers that much later', async () => {
    await setFault({ mode: 'latency', latencyMs: 300 });
    const t = performance.now();
    expect((await client.mount(mountReq())).files).toHaveLength(1);
    expect(performance.now() - t).toBeGreaterThanOrEqual(295);
  });

  it("hang: never answers; the caller's deadline ends the call", async () => {
    await setFault({ mode: 'hang' });
    await expect(client.mount(mountReq(), 300)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    await eventually(async () => (await state()).inflight === 0, 'the hung call is no longer in flight');
  });

  it("bad-path and oversize: the provider's files plus the faulty one", async () => {
    await setFault({ mode: 'bad-path' });
    const res = await client.mount(mountReq());
    expect(res.files.map((f) => f.path)).toEqual(['api-key', '../escaped-secret']);
    await setFault({ mode: 'oversize' });
    // Over the default 4 MiB a gRPC client (and the driver) receives.
    await expect(client.mount(mountReq())).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it('hold: calls wait until the fault is cleared, then are answered; the state counts them', async () => {
    await control.resetMaxInflight();
    await setFault({ mode: 'hold' });
    const calls = [0, 1, 2].map(() => client.mount(mountReq()));
    await eventually(async () => (await state()).inflight === 3, 'three calls held');
    await control.clearFault();
    for (const r of await Promise.all(calls)) expect(r.files[0]!.contents.toString()).toBe('ak_123');
    expect(await state()).toMatchObject({ inflight: 0, maxInflight: 3, faults: [], upstream: fake.socket });
  });

  it('count: the fault applies to the next N Mount calls, then expires', async () => {
    await setFault({ mode: 'unavailable', count: 2 });
    await expect(client.mount(mountReq())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect((await state()).faults).toEqual([{ mode: 'unavailable', count: 1 }]);
    await expect(client.mount(mountReq())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect((await client.mount(mountReq())).files).toHaveLength(1);
    expect((await state()).faults).toEqual([]);
  });

  it('control API: bad fault bodies are 400, object routes 404 naming where the objects are', async () => {
    await expect(setFault({ mode: 'explode' } as unknown as Fault)).rejects.toThrow(/PUT \/faults on .*: HTTP 400 mode must be one of unavailable, error/);
    await expect(control.putObject('api-key', { contents: 'x' })).rejects.toThrow(/HTTP 404 the fault proxy has no objects: .*--rotate-cmd/);
  });
});
