/**
 * livenessprobe through its real entry point: our driver and the probe as processes, GET
 * /healthz as the kubelet's liveness probe does — with the driver up, gone, and back.
 */
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { root, startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { loadCsiProto } from '../../proto/load.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { get, servingUrl, startDriver } from './sidecar-env.js';

const bin = join(root, 'dist/sidecars/livenessprobe/main.js');

describe('livenessprobe command line', () => {
  it('takes only one of --health-port and --http-endpoint, and rejects unknown flags', () => {
    const both = spawnSync(process.execPath, [bin, '--health-port=9000', '--http-endpoint=127.0.0.1:9001'], { encoding: 'utf8', timeout: 20_000 });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/only one of --health-port and --http-endpoint/);
    const unknown = spawnSync(process.execPath, [bin, '--metrics-address=:8080'], { encoding: 'utf8', timeout: 20_000 });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--metrics-address'/);
  });
});

describe('livenessprobe with our driver', () => {
  let tmp: TempRoot;
  let driver: ManagedProcess | undefined;
  let probe: ManagedProcess | undefined;
  let socket: string;
  let healthz: string;

  beforeAll(async () => {
    tmp = await makeTempRoot('livenessprobe');
    socket = join(tmp.path, 'csi', 'csi.sock');
    driver = await startDriver(tmp.path, socket);
    probe = startBin('sidecars/livenessprobe/main.js', [`--csi-address=${socket}`, '--http-endpoint=127.0.0.1:0', '--probe-timeout=3s', '-v=2']);
    healthz = `${await servingUrl(probe, /serving \/healthz/)}/healthz`;
  });

  afterAll(async () => {
    await Promise.all([probe?.kill('SIGKILL'), driver?.kill('SIGKILL')]);
    await tmp?.cleanup();
  });

  it('learned the driver\'s name at start', () => {
    expect(probe!.stderr()).toMatch(/CSI driver name driver="secrets-store\.csi\.k8s\.io"/);
  });

  it('/healthz is 200 "ok" while the driver answers Probe ready', async () => {
    expect(await get(healthz)).toEqual({ status: 200, body: 'ok' });
  });

  it('/healthz is 500 with the reason once the driver is gone, and 200 again when it is back', async () => {
    await driver!.kill('SIGKILL');
    const down = await get(healthz);
    expect(down.status).toBe(500);
    expect(down.body).toMatch(/UNAVAILABLE/);
    expect(probe!.stderr()).toMatch(/health check failed/);
    driver = await startDriver(tmp.path, socket);
    await eventually(async () => (await get(healthz)).status === 200, '/healthz 200 after the driver restarted');
  });

  it('a 404 names the one path it serves', async () => {
    expect(await get(healthz.replace('/healthz', '/metrics'))).toEqual({ status: 404, body: 'not found: try /healthz\n' });
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await probe!.kill('SIGTERM')).toBe(0);
  });
});

describe('livenessprobe with a driver that answers but is not ready', () => {
  let tmp: TempRoot;
  let server: grpc.Server;
  let probe: ManagedProcess | undefined;

  beforeAll(async () => {
    tmp = await makeTempRoot('livenessprobe-notready');
    const socket = join(tmp.path, 'csi.sock');
    // A CSI Identity service whose Probe says ready=false, as a driver still starting up would.
    const { csi } = loadCsiProto();
    server = new grpc.Server();
    server.addService(csi.v1.Identity.service, {
      GetPluginInfo: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { name: 'starting.csi.example.com', vendor_version: '0' }),
      GetPluginCapabilities: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { capabilities: [] }),
      Probe: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { ready: { value: false } }),
    });
    await bindUnixSocket(server, socket);
    probe = startBin('sidecars/livenessprobe/main.js', [`--csi-address=unix://${socket}`, '--http-endpoint=127.0.0.1:0']);
  });

  afterAll(async () => {
    await probe?.kill('SIGKILL');
    if (server) await shutdownServer(server, 100);
    await tmp?.cleanup();
  });

  it('/healthz is 500 "driver responded but is not ready"', async () => {
    const healthz = `${await servingUrl(probe!, /serving \/healthz/)}/healthz`;
    expect(await get(healthz)).toEqual({ status: 500, body: 'driver responded but is not ready' });
  });
});
