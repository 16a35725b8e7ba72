/**
 * The provider client pool against real gRPC servers on unix sockets, each scripted by the
 * test: discovery order, name rule, retry of UNAVAILABLE, deadlines, the in-flight bound,
 * the receive limit and reply validation.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bindUnixSocket } from '../../grpc/unix-socket.js';
import { createLogger } from '../../log/logger.js';
import { loadProviderProto } from '../../proto/load.js';
import type { CSIDriverProviderHandlers } from '../../proto/gen/v1alpha1/CSIDriverProvider.js';
import type { MountResponse } from '../../proto/gen/v1alpha1/MountResponse.js';
import { CsiError } from '../../driver/csi-error.js';
import { ProviderClients, type MountParams } from '../../driver/provider/provider-client.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const logger = createLogger({ name: 'test', level: 'silent' });
let tmp: TempRoot;
const servers: grpc.Server[] = [];
const clients: ProviderClients[] = [];

beforeAll(async () => {
  tmp = await makeTempRoot('provclient');
});
afterEach(() => {
  clients.splice(0).forEach((c) => c.close());
  servers.splice(0).forEach((s) => s.forceShutdown());
});
afterAll(async () => {
  await tmp.cleanup();
});

type MountHandler = (req: { attributes: string }, cb: (err: Partial<grpc.StatusObject> | null, res?: MountResponse) => void) => void;

async function serve(dir: string, name: string, mount: MountHandler): Promise<string> {
  await mkdir(dir, { recursive: true });
  const server = new grpc.Server();
  const handlers: CSIDriverProviderHandlers = {
    Version: (_call, cb) => cb(null, { version: 'v1alpha1', runtime_name: 'scripted', runtime_version: '0.0.1' }),
    Mount: (call, cb) => mount(call.request, cb),
  };
  server.addService(loadProviderProto().v1alpha1.CSIDriverProvider.service, handlers);
  const socket = join(dir, `${name}.sock`);
  await bindUnixSocket(server, socket);
  servers.push(server);
  return socket;
}

const ok: MountHandler = (_req, cb) =>
  cb(null, { object_version: [{ id: 'a', version: '1' }], files: [{ path: 'a', mode: 0o600, contents: Buffer.from('x') }] });

function pool(dirs: { primary: string; additional?: string[] }, overrides: Partial<ConstructorParameters<typeof ProviderClients>[0]> = {}) {
  const c = new ProviderClients({
    providerVolume: dirs.primary,
    additionalProviderVolumePaths: dirs.additional ?? [],
    maxCallRecvMsgSize: 4 * 1024 * 1024,
    maxInflight: 32,
    callTimeoutMs: 10_000,
    logger,
    ...overrides,
  });
  clients.push(c);
  return c;
}

const params = (over: Partial<MountParams> = {}): MountParams => ({
  attributes: '{}',
  secrets: '{}',
  targetPath: '/t',
  permission: '420',
  currentObjectVersion: [],
  deadline: Date.now() + 10_000,
  ...over,
});

async function failure(p: Promise<unknown>): Promise<CsiError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(CsiError);
  return err as CsiError;
}

describe('provider client', () => {
  it('returns files and object versions', async () => {
    const dir = join(tmp.path, 'ok');
    await serve(dir, 'p', ok);
    const res = await pool({ primary: dir }).mount('p', params());
    expect(res.objectVersions).toEqual([{ id: 'a', version: '1' }]);
    expect(res.files).toHaveLength(1);
    expect(res.files[0]).toMatchObject({ path: 'a', mode: 0o600 });
    expect(Buffer.from(res.files[0]!.contents).toString()).toBe('x');
  });

  it('searches the additional paths before --provider-volume', async () => {
    const primary = join(tmp.path, 'order-primary');
    const extra = join(tmp.path, 'order-extra');
    await serve(primary, 'p', (_r, cb) => cb(null, { object_version: [{ id: 'from', version: 'primary' }] }));
    await serve(extra, 'p', (_r, cb) => cb(null, { object_version: [{ id: 'from', version: 'additional' }] }));
    const res = await pool({ primary, additional: [join(tmp.path, 'missing'), extra] }).mount('p', params());
    expect(res.objectVersions[0]!.version).toBe('additional');
  });

  it('names every searched directory when the socket is missing', async () => {
    const err = await failure(pool({ primary: join(tmp.path, 'none1'), additional: [join(tmp.path, 'none2')] }).mount('vault', params()));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.message).toMatch(/provider "vault" not found: no socket vault\.sock in .*none2, .*none1/);
  });

  it('refuses provider names that could leave the provider directories', async () => {
    for (const name of ['../etc/x', 'a/b', '', 'x'.repeat(31), 'a.b']) {
      const err = await failure(pool({ primary: tmp.path }).mount(name, params()));
      expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err.message).toMatch(/invalid provider name/);
    }
  });

  it('retries UNAVAILABLE up to 3 attempts', async () => {
    const dir = join(tmp.path, 'retry');
    let calls = 0;
    await serve(dir, 'p', (req, cb) => (++calls < 3 ? cb({ code: grpc.status.UNAVAILABLE, details: 'warming up' }) : ok(req, cb)));
    const res = await pool({ primary: dir }).mount('p', params());
    expect(res.objectVersions).toHaveLength(1);
    expect(calls).toBe(3);
  });

  it('gives up after 3 attempts with UNAVAILABLE naming the provider', async () => {
    const dir = join(tmp.path, 'retry-fail');
    let calls = 0;
    await serve(dir, 'p', (_r, cb) => {
      calls++;
      cb({ code: grpc.status.UNAVAILABLE, details: 'backend down' });
    });
    const err = await failure(pool({ primary: dir }).mount('p', params()));
    expect(calls).toBe(3);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.message).toMatch(/provider "p" is unavailable at .*p\.sock: backend down/);
  });

  it('does not retry other errors', async () => {
    const dir = join(tmp.path, 'noretry');
    let calls = 0;
    await serve(dir, 'p', (_r, cb) => {
      calls++;
      cb({ code: grpc.status.PERMISSION_DENIED, details: 'vault said no' });
    });
    const err = await failure(pool({ primary: dir }).mount('p', params()));
    expect(calls).toBe(1);
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.message).toMatch(/provider "p" failed to mount: PERMISSION_DENIED: vault said no/);
  });

  it('ends a call at the caller deadline', async () => {
    const dir = join(tmp.path, 'hang');
    await serve(dir, 'p', () => {});
    const started = Date.now();
    const err = await failure(pool({ primary: dir }).mount('p', params({ deadline: Date.now() + 300 })));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends a call at --provider-timeout when the caller has no deadline', async () => {
    const dir = join(tmp.path, 'hang2');
    await serve(dir, 'p', () => {});
    const err = await failure(pool({ primary: dir }, { callTimeoutMs: 300 }).mount('p', params({ deadline: Infinity })));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('reports a provider error code as the failure reason', async () => {
    const dir = join(tmp.path, 'errcode');
    await serve(dir, 'p', (_r, cb) => cb(null, { object_version: [{ id: 'a', version: '1' }], error: { code: 'AccessDenied' } }));
    const err = await failure(pool({ primary: dir }).mount('p', params()));
    expect(err.reason).toBe('AccessDenied');
    expect(err.message).toMatch(/returned error code "AccessDenied"/);
  });

  it('treats a reply without object versions as an error', async () => {
    const dir = join(tmp.path, 'nover');
    await serve(dir, 'p', (_r, cb) => cb(null, { files: [{ path: 'a', contents: Buffer.from('x') }] }));
    const err = await failure(pool({ primary: dir }).mount('p', params()));
    expect(err.message).toMatch(/returned no object versions/);
  });

  it('enforces --max-call-recv-msg-size and says which flag to raise', async () => {
    const dir = join(tmp.path, 'big');
    await serve(dir, 'p', (_r, cb) => cb(null, { object_version: [{ id: 'a', version: '1' }], files: [{ path: 'a', contents: Buffer.alloc(64 * 1024) }] }));
    const err = await failure(pool({ primary: dir }, { maxCallRecvMsgSize: 16 * 1024 }).mount('p', params()));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(/raise --max-call-recv-msg-size \(now 16384 bytes\)/);
  });

  it('keeps at most --provider-max-inflight Mount calls in flight and queues the rest', async () => {
    const dir = join(tmp.path, 'inflight');
    let running = 0;
    let peak = 0;
    await serve(dir, 'p', (req, cb) => {
      running++;
      peak = Math.max(peak, running);
      setTimeout(() => {
        running--;
        ok(req, cb);
      }, 30);
    });
    const c = pool({ primary: dir }, { maxInflight: 4 });
    const results = await Promise.all(Array.from({ length: 40 }, () => c.mount('p', params())));
    expect(results).toHaveLength(40);
    expect(peak).toBe(4);
    expect(c.stats()[0]).toMatchObject({ provider: 'p', inflight: 0, queued: 0, peakInflight: 4 });
  });

  it('fails a queued call whose deadline passes before a slot frees', async () => {
    const dir = join(tmp.path, 'queue-timeout');
    await serve(dir, 'p', (req, cb) => setTimeout(() => ok(req, cb), 1000));
    const c = pool({ primary: dir }, { maxInflight: 1 });
    const first = c.mount('p', params());
    const err = await failure(c.mount('p', params({ deadline: Date.now() + 200 })));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(err.message).toMatch(/provider "p" is saturated: .*1 calls in flight.*raise --provider-max-inflight/);
    await first;
  });

  it('reconnects when the provider restarts on the same socket', async () => {
    const dir = join(tmp.path, 'restart');
    await serve(dir, 'p', ok);
    const c = pool({ primary: dir });
    await c.mount('p', params());
    servers.pop()!.forceShutdown();
    const down = await failure(c.mount('p', params()));
    expect(down.code).toBe(grpc.status.UNAVAILABLE);
    await serve(dir, 'p', ok);
    // The channel reconnects on its own (backoff starts at 100 ms); the next calls succeed.
    let res;
    for (let i = 0; i < 50 && !res; i++) res = await c.mount('p', params()).catch(() => undefined);
    expect(res?.objectVersions).toHaveLength(1);
  });
});
