/**
 * The driver binary as the kubelet meets it: its own process, its flags, its socket.
 * Nothing here needs a provider or the Kubernetes API (validation comes first).
 */
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { lstat, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../../harness/csi-client.js';
import { binNodeOptions, root, startBin, type ManagedProcess as TestProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { targetPath } from '../../cluster/kubelet-layout.js';

const version = (JSON.parse(spawnSync(process.execPath, ['-p', `JSON.stringify(require('${root}/package.json'))`]).stdout.toString()) as { version: string }).version;

function runBin(args: string[]) {
  return spawnSync(process.execPath, [join(root, 'dist/driver/main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
}

async function writeKubeconfig(path: string): Promise<void> {
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:9", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
}

describe('driver command line', () => {
  it('prints its version', () => {
    const r = runBin(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`secrets-store-csi-driver ${version}`);
  });

  it('runs as an executable with the Node options the harness starts it with', async () => {
    const script = join(root, 'dist/driver/main.js');
    const first = (await readFile(script, 'utf8')).split('\n', 1)[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${binNodeOptions['driver/main.js'].join(' ')}`);
    // Through its first line, as the package's bin and a container entrypoint run it.
    const r = spawnSync(script, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`secrets-store-csi-driver ${version}`);
  });

  it('rejects an unknown flag', () => {
    const r = runBin(['--nodeid=n', '--no-such-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--no-such-flag'/);
  });

  it('rejects a bad duration and a bad boolean', () => {
    expect(runBin(['--nodeid=n', '--rotation-poll-interval=soon']).stderr).toMatch(/invalid value "soon" for --rotation-poll-interval/);
    expect(runBin(['--provider-health-check=yes']).stderr).toMatch(/invalid boolean value "yes"/);
  });

  it('requires --nodeid', () => {
    const r = runBin(['--endpoint=unix:///tmp/never.sock']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--nodeid is required/);
  });
});

describe('driver process on its socket', () => {
  let tmp: TempRoot;
  let driver: TestProcess;
  let client: CsiClient;
  let socket: string;

  beforeAll(async () => {
    tmp = await makeTempRoot('driverproc');
    socket = join(tmp.path, 'plugin', 'csi.sock');
    const kubeconfig = join(tmp.path, 'kubeconfig');
    await writeKubeconfig(kubeconfig);
    // A socket file left behind by a killed driver.
    const leftover = spawnSync(process.execPath, ['-e', `require('fs').mkdirSync(${JSON.stringify(join(tmp.path, 'plugin'))}); require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(leftover.signal).toBe('SIGKILL');
    expect((await lstat(socket)).isSocket()).toBe(true);
    driver = startBin('driver/main.js', [
      `--endpoint=unix://${socket}`,
      '--nodeid=node-1',
      `--kubeconfig=${kubeconfig}`,
      `--provider-volume=${join(tmp.path, 'providers')}`, `--additional-provider-volume-paths=${join(tmp.path, 'providers')}-none`,
      '-v=2',
      '--metrics-addr=127.0.0.1:0',
      '--log-format-json',
    ]);
    await driver.waitForLine(/CSI driver serving/);
    client = csiClient(socket);
  });

  afterAll(async () => {
    client?.close();
    await driver?.kill('SIGKILL');
    await tmp?.cleanup();
  });

  it('replaced the stale socket and restricts it to owner and group', async () => {
    const st = await stat(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
  });

  it('logs the mount mode it chose', () => {
    const line = driver.stderr().split('\n').find((l) => l.includes('CSI driver serving'))!;
    expect(JSON.parse(line).mountMode).toBe(process.getuid?.() === 0 ? 'tmpfs' : 'dir');
  });

  it('answers the Identity service', async () => {
    expect(await client.getPluginInfo({})).toMatchObject({ name: 'secrets-store.csi.k8s.io', vendor_version: version });
    expect((await client.getPluginCapabilities({})).capabilities).toEqual([{ service: { type: 'CONTROLLER_SERVICE' }, type: 'service' }]);
    expect((await client.probe({})).ready).toEqual({ value: true });
  });

  it('answers NodeGetInfo and NodeGetCapabilities', async () => {
    expect(await client.nodeGetInfo({})).toMatchObject({ node_id: 'node-1', max_volumes_per_node: '0' });
    expect((await client.nodeGetCapabilities({})).capabilities).toEqual([
      { rpc: { type: 'STAGE_UNSTAGE_VOLUME' }, type: 'rpc' },
      { rpc: { type: 'VOLUME_MOUNT_GROUP' }, type: 'rpc' },
    ]);
  });

  it('serves the Controller service as upstream does', async () => {
    expect((await client.controllerGetCapabilities({})).capabilities).toEqual([{ rpc: { type: 'UNKNOWN' }, type: 'rpc' }]);
    await expect(client.createVolume({ name: 'v' })).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    await expect(client.nodeGetVolumeStats({ volume_id: 'v', volume_path: '/x' })).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    await expect(client.nodeExpandVolume({ volume_id: 'v', volume_path: '/x' })).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });

  const target = () => targetPath(tmp.path, 'uid', 'secrets');
  const invalid: Array<[string, (r: ReturnType<typeof kubeletPublishRequest>) => void, RegExp]> = [
    ['no volume capability', (r) => delete r.volume_capability, /volume capability missing in request/],
    ['no volume id', (r) => (r.volume_id = ''), /volume ID missing in request/],
    ['no target path', (r) => (r.target_path = ''), /target path missing in request/],
    ['no volume context', (r) => (r.volume_context = {}), /volume attributes missing in request/],
    ['readonly false', (r) => (r.readonly = false), /readonly is not true in request/],
    ['block access', (r) => (r.volume_capability = { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }), /block access type is not supported/],
    ['no secretProviderClass', (r) => delete r.volume_context!.secretProviderClass, /secretProviderClass is not set/],
    ['no pod info', (r) => delete r.volume_context!['csi.storage.k8s.io/pod.uid'], /pod\.uid missing in the volume context: the CSIDriver object must set podInfoOnMount: true/],
    ['a volume_mount_group that is no group id', (r) => (r.volume_capability = { mount: { fs_type: '', mount_flags: [], volume_mount_group: 'wheel' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }), /volume_mount_group "wheel" is not a numeric group id/],
  ];
  for (const [name, mutate, message] of invalid) {
    it(`NodePublishVolume with ${name} is INVALID_ARGUMENT and touches nothing`, async () => {
      const req = kubeletPublishRequest({ targetPath: target(), spc: 'spc' });
      mutate(req);
      const err = await client.nodePublishVolume(req).catch((e: grpc.ServiceError) => e);
      expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
      expect((err as grpc.ServiceError).details).toMatch(message);
      await expect(lstat(target())).rejects.toMatchObject({ code: 'ENOENT' });
    });
  }

  it('validates NodeUnpublishVolume, NodeStageVolume and NodeUnstageVolume', async () => {
    await expect(client.nodeUnpublishVolume({ volume_id: '', target_path: '/x' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'volume ID missing in request' });
    await expect(client.nodeUnpublishVolume({ volume_id: 'v', target_path: '' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'target path missing in request' });
    const cap = { mount: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' as const } };
    await expect(client.nodeStageVolume({ volume_id: '', staging_target_path: '/s', volume_capability: cap })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(client.nodeStageVolume({ volume_id: 'v', staging_target_path: '', volume_capability: cap })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(client.nodeStageVolume({ volume_id: 'v', staging_target_path: '/s' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(await client.nodeStageVolume({ volume_id: 'v', staging_target_path: '/s', volume_capability: cap })).toEqual({});
    await expect(client.nodeUnstageVolume({ volume_id: 'v', staging_target_path: '' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(await client.nodeUnstageVolume({ volume_id: 'v', staging_target_path: '/s' })).toEqual({});
  });

  it('unpublishes a path it never published (idempotent)', async () => {
    expect(await client.nodeUnpublishVolume({ volume_id: 'v', target_path: join(tmp.path, 'never/was/here') })).toEqual({});
  });

  it('a publish whose Kubernetes API is unreachable fails UNAVAILABLE and leaves the target clean', async () => {
    const err = (await client.nodePublishVolume(kubeletPublishRequest({ targetPath: target(), spc: 'spc' })).catch((e) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toMatch(/failed to get SecretProviderClass default\/spc: Kubernetes API unreachable/);
    await expect(lstat(target())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops cleanly on SIGTERM and removes its socket', async () => {
    expect(await driver.kill('SIGTERM')).toBe(0);
    expect(driver.stderr()).toMatch(/CSI driver stopped/);
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('driver refusing to start', () => {
  it('says which kubeconfig it could not load', () => {
    const r = runBin(['--nodeid=n', '--endpoint=unix:///tmp/never.sock', '--kubeconfig=/nonexistent/kubeconfig']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/failed to load --kubeconfig \/nonexistent\/kubeconfig: ENOENT/);
  });

  it('does not replace a regular file at the socket path', async () => {
    const tmp = await makeTempRoot('driverrefuse');
    try {
      const path = join(tmp.path, 'csi.sock');
      await writeFile(path, 'not a socket');
      const kubeconfig = join(tmp.path, 'kubeconfig');
      await writeKubeconfig(kubeconfig);
      const r = runBin([`--endpoint=unix://${path}`, '--nodeid=n', `--kubeconfig=${kubeconfig}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/exists and is not a socket; refusing to replace it/);
    } finally {
      await tmp.cleanup();
    }
  });
});
