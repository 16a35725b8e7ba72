/**
 * csi-node-driver-registrar through its real entry point: our driver and the registrar as
 * processes, the test acting as the kubelet's plugin watcher on the registration socket.
 */
import { spawnSync } from 'node:child_process';
import { access, lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startBin, waitForFile, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { get, kubeletRegistrationClient, servingUrl, startDriver } from './sidecar-env.js';

const bin = join(root, 'dist/sidecars/node-driver-registrar/main.js');
const driverName = 'secrets-store.csi.k8s.io';

function runRegistrar(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('csi-node-driver-registrar command line', () => {
  it('requires --kubelet-registration-path, and rejects unknown flags and modes', () => {
    const missing = runRegistrar(['--csi-address=/tmp/none.sock']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--kubelet-registration-path is required/);
    expect(runRegistrar(['--kubelet-registration-path=/x/csi.sock', '--no-such-flag']).stderr).toMatch(/Unknown option '--no-such-flag'/);
    expect(runRegistrar(['--kubelet-registration-path=/x/csi.sock', '--mode=other']).stderr).toMatch(/invalid value "other" for --mode/);
    expect(runRegistrar(['--kubelet-registration-path=/x/csi.sock', '--health-port=9809', '--http-endpoint=:9810']).stderr).toMatch(/only one of --health-port and --http-endpoint/);
  });

  it('runs as an executable through its first line, as the package bin and the image probe do', () => {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^csi-node-driver-registrar \d+\.\d+\.\d+/);
  });
});

describe('csi-node-driver-registrar with our driver, the test as the kubelet', () => {
  let tmp: TempRoot;
  let driver: ManagedProcess | undefined;
  let registrar: ManagedProcess | undefined;
  let csiSocket: string;
  let kubeletPath: string;
  let registry: string;
  let regSocket: string;
  let healthz: string;
  const extra: ManagedProcess[] = [];

  const probeMode = () => runRegistrar([`--kubelet-registration-path=${kubeletPath}`, '--mode=kubelet-registration-probe']);

  beforeAll(async () => {
    tmp = await makeTempRoot('registrar');
    csiSocket = join(tmp.path, 'csi', 'csi.sock');
    // Where the kubelet (on the host) finds the driver's socket; in a pod it differs from --csi-address.
    kubeletPath = join(tmp.path, 'host', 'plugins', 'csi-secrets-store', 'csi.sock');
    registry = join(tmp.path, 'plugins_registry');
    regSocket = join(registry, `${driverName}-reg.sock`);
    // The registrar first, as a DaemonSet may start it: it waits for the driver's socket.
    registrar = startBin('sidecars/node-driver-registrar/main.js', [
      `--csi-address=${csiSocket}`,
      `--kubelet-registration-path=${kubeletPath}`,
      `--plugin-registration-path=${registry}`,
      '--http-endpoint=127.0.0.1:0',
      '-v=2',
    ]);
    driver = await startDriver(tmp.path, csiSocket);
    await waitForFile(regSocket);
    healthz = `${await servingUrl(registrar, /HTTP server started/)}/healthz`;
  });

  afterAll(async () => {
    await Promise.all([registrar, driver, ...extra].map((p) => p?.kill('SIGKILL')));
    await tmp?.cleanup();
  });

  it('serves the registration socket under the driver\'s name, for its owner only', async () => {
    const st = await lstat(regSocket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o077).toBe(0);
  });

  it('the probe mode fails before the kubelet has asked for the plugin info', () => {
    const r = probeMode();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/registration hasn't succeeded yet/);
  });

  it('answers GetInfo as a CSI plugin: the driver\'s name, its socket on the host, version 1.0.0', async () => {
    const kubelet = kubeletRegistrationClient(regSocket);
    try {
      expect(await kubelet.getInfo()).toEqual({ type: 'CSIPlugin', name: driverName, endpoint: kubeletPath, supported_versions: ['1.0.0'] });
      expect(await kubelet.notify({ plugin_registered: true, error: '' })).toEqual({});
    } finally {
      kubelet.close();
    }
    await registrar!.waitForLine(/registered with the kubelet/);
  });

  it('the probe mode succeeds once the kubelet has asked', () => {
    const r = probeMode();
    expect(r.status, r.stderr).toBe(0);
  });

  it('/healthz is 200 while the socket answers, 404 once the socket is gone', async () => {
    expect(await get(healthz)).toEqual({ status: 200, body: 'ok' });
    await rm(regSocket);
    expect(await get(healthz)).toEqual({ status: 404, body: 'registration socket does not exist' });
  });

  it('removes its socket on SIGTERM and exits 0', async () => {
    const registry2 = join(tmp.path, 'registry-2');
    const second = startBin('sidecars/node-driver-registrar/main.js', [`--csi-address=unix://${csiSocket}`, `--kubelet-registration-path=${kubeletPath}`, `--plugin-registration-path=${registry2}`]);
    extra.push(second);
    const sock = join(registry2, `${driverName}-reg.sock`);
    await waitForFile(sock);
    expect(await second.kill('SIGTERM')).toBe(0);
    await expect(access(sock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('exits non-zero with the kubelet\'s reason when the kubelet refuses the registration', async () => {
    const registry3 = join(tmp.path, 'registry-3');
    const third = startBin('sidecars/node-driver-registrar/main.js', [`--csi-address=${csiSocket}`, `--kubelet-registration-path=${kubeletPath}`, `--plugin-registration-path=${registry3}`]);
    extra.push(third);
    const sock = join(registry3, `${driverName}-reg.sock`);
    await waitForFile(sock);
    const kubelet = kubeletRegistrationClient(sock);
    try {
      await kubelet.getInfo();
      await kubelet.notify({ plugin_registered: false, error: 'plugin registration failed: version 1.0.0 not supported' });
    } finally {
      kubelet.close();
    }
    expect(await third.exited()).toBe(1);
    expect(third.stderr()).toMatch(/registration process failed with error: plugin registration failed: version 1\.0\.0 not supported/);
  });

});
