/**
 * Hostile inputs through the CSI socket of the real driver process, as root, checking the
 * node afterwards (mountinfo, the files around the target): the driver acts only on what
 * is its own (unpublish, symlinks, foreign mounts, the Secret sync), and validates names
 * and provider replies before it acts. Each case is a hole issue 16 names.
 */
import * as grpc from '@grpc/grpc-js';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMountInfo } from '../../driver/mount/mount-info.js';
import { mountTmpfs, unmountPath } from '../../driver/mount/tmpfs-mounter.js';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../../harness/csi-client.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { hex, startRawProvider, type RawFile } from './raw-provider.js';
import { csiVolumeDir, targetPath } from '../../cluster/kubelet-layout.js';

let tmp: TempRoot;
let api: StartedSimApiServer;
let provider: Awaited<ReturnType<typeof startRawProvider>>;
let driver: ManagedProcess;
let client: CsiClient;
let uids = 0;
let metricsUrl = '';
let kubeconfig = '';

/** Starts the driver process (again) and a client on its socket. */
async function startDriver(): Promise<void> {
  const socket = join(tmp.path, 'csi', 'csi.sock');
  driver = startBin('driver/main.js', [
    `--endpoint=unix://${socket}`,
    '--nodeid=node-1',
    `--kubeconfig=${kubeconfig}`,
    `--provider-volume=${join(tmp.path, 'providers')}`,
    `--additional-provider-volume-paths=${join(tmp.path, 'no-such-dir')}`,
    '--metrics-addr=127.0.0.1:0',
    '--log-format-json',
    '-v=2',
  ]);
  metricsUrl = (JSON.parse(await driver.waitForLine(/CSI driver serving/)) as { metrics: string }).metrics;
  client?.close();
  client = csiClient(socket);
}

const mountRecords = async () => ((await (await fetch(`${metricsUrl}/mounts`)).json()) as { mounts: Array<{ targetPath: string }> }).mounts.map((m) => m.targetPath);

const secret = 's3cr3t-value-of-pod';
const okFiles: RawFile[] = [{ pathHex: hex('password'), contents: secret }];
const kubeletRoot = () => join(tmp.path, 'kubelet');
const newPod = (name: string, namespace = 'default') => ({ name, namespace, uid: `00000000-0000-4000-8000-${String(++uids).padStart(12, '0')}` });
const targetOf = (uid: string, volume = 'secrets') => targetPath(kubeletRoot(), uid, volume);
const mountsAt = async (path: string) => (await readMountInfo()).filter((m) => m.mountPoint === path);
const mountsBelow = async (path: string) => (await readMountInfo()).filter((m) => m.mountPoint === path || m.mountPoint.startsWith(`${path}/`));
const failure = (p: Promise<unknown>) => p.then(() => null, (e: grpc.ServiceError) => e);

function spc(namespace: string, name: string, files: RawFile[], secretObjects?: unknown[]): void {
  api.store.create('secretproviderclasses', {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name, namespace },
    spec: { provider: 'raw', parameters: { files: JSON.stringify(files) }, ...(secretObjects ? { secretObjects } : {}) },
  });
}

/** Publishes a volume of ours for a fresh pod; returns its target. */
async function publishOurs(name: string, namespace = 'default', spcName = 'ok'): Promise<{ target: string; pod: ReturnType<typeof newPod> }> {
  const pod = newPod(name, namespace);
  const target = targetOf(pod.uid);
  await client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: spcName, pod }));
  return { target, pod };
}

/** A running pod on node-1 in the API (the API server gives it its uid). */
function apiPod(name: string, namespace: string): { name: string; namespace: string; uid: string } {
  const created = api.store.create('pods', { metadata: { name, namespace }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' } });
  return { name, namespace, uid: created.metadata.uid! };
}

describe.skipIf(!isRoot)('hostile inputs to the driver process (root: real tmpfs mounts)', () => {
  beforeAll(async () => {
    tmp = await makeTempRoot('hostile');
    api = await new SimApiServer().start();
    kubeconfig = join(tmp.path, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    await mkdir(join(tmp.path, 'providers'));
    provider = await startRawProvider(join(tmp.path, 'providers', 'raw.sock'));
    await mkdir(join(tmp.path, 'csi'));
    await startDriver();
    for (const ns of ['team-a', 'team-b']) api.store.create('namespaces', { metadata: { name: ns } });
    spc('default', 'ok', okFiles);
  });

  afterAll(async () => {
    client?.close();
    await driver?.kill('SIGKILL');
    await provider?.close();
    await api?.stop();
    await tmp?.cleanup();
  });

  describe('unpublish acts only on what is its own', () => {
    it('unpublish of / is FAILED_PRECONDITION, and / is not touched (no read-only remount)', async () => {
      const before = await mountsAt('/');
      expect(before.length).toBeGreaterThan(0);
      const err = await failure(client.nodeUnpublishVolume({ volume_id: 'v', target_path: '/' }));
      expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err?.details).toMatch(/^\/ is a \S+ mount of ".*", not a volume this driver mounted: left mounted$/);
      expect(await mountsAt('/')).toEqual(before);
      expect(before.at(-1)!.options.split(',')[0]).toBe('rw');
    });

    it('a plain directory with files (no volume) is OK with nothing done; its files stay', async () => {
      const dir = join(tmp.path, 'plain', 'data');
      await mkdir(join(dir, 'sub'), { recursive: true });
      await writeFile(join(dir, 'precious.txt'), 'keep me');
      await writeFile(join(dir, 'sub', 'nested.txt'), 'me too');
      expect(await client.nodeUnpublishVolume({ volume_id: 'v', target_path: dir })).toEqual({});
      expect(await readFile(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
      expect(await readFile(join(dir, 'sub', 'nested.txt'), 'utf8')).toBe('me too');
      await driver.waitForLine(/the target is not a volume this driver made/);
    });

    it('a tmpfs someone else mounted at a pod path is FAILED_PRECONDITION and stays mounted with its files', async () => {
      const target = targetOf(newPod('foreign').uid);
      await mkdir(target, { recursive: true });
      mountTmpfs(target, 'mode=0755', 'someone-else');
      try {
        await writeFile(join(target, 'theirs'), 'data');
        const err = await failure(client.nodeUnpublishVolume({ volume_id: 'v', target_path: target }));
        expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
        expect(err?.details).toBe(`${target} is a tmpfs mount of "someone-else", not a volume this driver mounted: left mounted`);
        expect(await mountsAt(target)).toMatchObject([{ fsType: 'tmpfs', source: 'someone-else' }]);
        expect(await readFile(join(target, 'theirs'), 'utf8')).toBe('data');
        // Nor does a publish write into it.
        const perr = await failure(client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'ok', pod: newPod('foreign-2') })));
        expect(perr?.code).toBe(grpc.status.FAILED_PRECONDITION);
        expect(perr?.details).toBe(`target path ${target} is a tmpfs mount of "someone-else" that this driver did not make: refusing to publish a volume onto it`);
        expect((await readdir(target)).sort()).toEqual(['theirs']);
      } finally {
        unmountPath(target, true);
      }
    });

    it('our volume is unmounted and removed; its tmpfs carries the source secrets-store-csi', async () => {
      const { target } = await publishOurs('ours-0');
      expect(await mountsAt(target)).toMatchObject([{ fsType: 'tmpfs', source: 'secrets-store-csi' }]);
      expect(await readFile(join(target, 'password'), 'utf8')).toBe(secret);
      expect(await client.nodeUnpublishVolume({ volume_id: 'v', target_path: target })).toEqual({});
      expect(await mountsBelow(target)).toEqual([]);
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readdir(join(target, '..'))).toEqual([]);
    });

    it('a file left under our volume is kept: unmounted, layout gone, FAILED_PRECONDITION naming it', async () => {
      const pod = newPod('stray-0');
      const target = targetOf(pod.uid);
      await mkdir(target, { recursive: true });
      await writeFile(join(target, 'stray.log'), 'not the driver\'s');
      await client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'ok', pod }));
      expect(await readFile(join(target, 'password'), 'utf8')).toBe(secret);
      const err = await failure(client.nodeUnpublishVolume({ volume_id: 'v', target_path: target }));
      expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err?.details).toMatch(/holds 1 entry the driver did not write \("stray\.log"\): the volume was unmounted and the driver's own files were removed, these were left in place/);
      expect(await mountsBelow(target)).toEqual([]);
      expect(await readdir(target)).toEqual(['stray.log']);
      // The kubelet's retry: what is left is no volume, so the call is done.
      expect(await client.nodeUnpublishVolume({ volume_id: 'v', target_path: target })).toEqual({});
      expect(await readdir(target)).toEqual(['stray.log']);
    });

    it('an unpublish through a symlink to another pod\'s volume is FAILED_PRECONDITION; that volume stays', async () => {
      const victim = await publishOurs('victim-0');
      const attacker = newPod('attacker-0');
      const linkDir = join(targetOf(attacker.uid), '..');
      await mkdir(join(linkDir, '..'), { recursive: true });
      await symlink(join(victim.target, '..'), linkDir);
      const err = await failure(client.nodeUnpublishVolume({ volume_id: 'v', target_path: targetOf(attacker.uid) }));
      expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err?.details).toBe(`target path ${targetOf(attacker.uid)} goes through the symbolic link ${linkDir} -> ${join(victim.target, '..')}; this driver never makes a volume through a link, so nothing there is its own: left in place`);
      expect(await mountsAt(victim.target)).toHaveLength(1);
      expect(await readFile(join(victim.target, 'password'), 'utf8')).toBe(secret);
    });
  });

  describe('publish never mounts through a symbolic link', () => {
    it('a target that is a link is FAILED_PRECONDITION naming it; nothing is mounted or written where it points', async () => {
      const pod = newPod('link-0');
      const target = targetOf(pod.uid);
      const elsewhere = join(tmp.path, 'elsewhere-0');
      await mkdir(elsewhere);
      await mkdir(join(target, '..'), { recursive: true });
      await symlink(elsewhere, target);
      const err = await failure(client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'ok', pod })));
      expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err?.details).toBe(`target path ${target} goes through the symbolic link ${target} -> ${elsewhere}: refusing to create or mount a volume through a link; the kubelet's pod directories hold none`);
      expect(await mountsBelow(elsewhere)).toEqual([]);
      expect(await readdir(elsewhere)).toEqual([]);
      expect((await lstat(target)).isSymbolicLink()).toBe(true);
    });

    it('a link above the target, below the pods dir, is refused the same way', async () => {
      const pod = newPod('link-1');
      const target = targetOf(pod.uid);
      const csiDir = dirname(csiVolumeDir(kubeletRoot(), pod.uid, 'secrets'));
      const elsewhere = join(tmp.path, 'elsewhere-1');
      await mkdir(elsewhere);
      await mkdir(join(csiDir, '..'), { recursive: true });
      await symlink(elsewhere, csiDir);
      const err = await failure(client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'ok', pod })));
      expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err?.details).toMatch(new RegExp(`goes through the symbolic link ${csiDir.replace(/[.~]/g, '\\$&')} -> ${elsewhere}`));
      expect(await mountsBelow(elsewhere)).toEqual([]);
      expect(await readdir(elsewhere)).toEqual([]);
    });
  });

  describe('names and provider replies are validated before anything is done', () => {
    const cleanAfter = async (target: string) => {
      expect(await mountsBelow(target)).toEqual([]);
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    };

    for (const [name, spcName, namespace, message] of [
      ['SecretProviderClass ".."', '..', 'default', /^secretProviderClass "\.\." is not a valid SecretProviderClass name: it must be a lowercase RFC 1123 subdomain/],
      ['SecretProviderClass "."', '.', 'default', /^secretProviderClass "\." is not a valid SecretProviderClass name/],
      ['SecretProviderClass with a slash', 'a/b', 'default', /^secretProviderClass "a\/b" is not a valid SecretProviderClass name/],
      ['namespace ".."', 'ok', '..', /^csi\.storage\.k8s\.io\/pod\.namespace "\.\." is not a valid namespace: it must be a lowercase RFC 1123 label/],
    ] as const) {
      it(`${name} is INVALID_ARGUMENT with no API request and no mount`, async () => {
        const pod = newPod('names');
        const target = targetOf(pod.uid);
        const requests = api.requestLog.length;
        const err = await failure(client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: spcName, pod: { ...pod, namespace } })));
        expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(err?.details).toMatch(message);
        expect(api.requestLog.slice(requests).filter((r) => r.user !== 'admin' && r.verb !== 'watch')).toEqual([]);
        await cleanAfter(target);
      });
    }

    const replies: Array<[string, RawFile, RegExp]> = [
      ['a path that is not UTF-8', { pathHex: hex(Buffer.from([0x62, 0x61, 0x64, 0xff, 0x2e, 0x74, 0x78, 0x74])), contents: 'x' }, /^provider "raw" returned an unusable reply: invalid file path "bad\\xff\.txt": not valid UTF-8; file names must be sent as UTF-8$/],
      ['a component over 255 bytes', { pathHex: hex(`dir/${'n'.repeat(256)}`), contents: 'x' }, /^provider "raw" returned an unusable reply: invalid file path "dir\/n+"…: the component "n{32}"… is 256 bytes, must be at most 255$/],
      ['a path over 4096 bytes', { pathHex: hex(Array.from({ length: 20 }, () => 'p'.repeat(250)).join('/')), contents: 'x' }, /^provider "raw" returned an unusable reply: invalid file path "p+"…: 5019 bytes, must be at most 4096$/],
    ];
    for (const [name, file, message] of replies) {
      it(`a provider reply with ${name} is UNKNOWN, and the target is left clean`, async () => {
        const spcName = `bad-${uids}`;
        spc('default', spcName, [...okFiles, file]);
        const pod = newPod('bad-reply');
        const target = targetOf(pod.uid);
        const calls = provider.calls;
        const err = await failure(client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: spcName, pod })));
        expect(provider.calls).toBe(calls + 1);
        expect(err?.code).toBe(grpc.status.UNKNOWN);
        expect(err?.details).toMatch(message);
        await cleanAfter(target);
        expect(await readdir(join(target, '..'))).toEqual([]);
      });
    }

    it('a U+FFFD the provider really sent is a file name like any other', async () => {
      spc('default', 'replacement-char', [{ pathHex: hex('a\uFFFDb'), contents: 'ok' }]);
      const pod = newPod('fffd');
      const target = targetOf(pod.uid);
      await client.nodePublishVolume(kubeletPublishRequest({ targetPath: target, spc: 'replacement-char', pod }));
      expect(await readFile(join(target, 'a\uFFFDb'), 'utf8')).toBe('ok');
      await client.nodeUnpublishVolume({ volume_id: 'v', target_path: target });
      expect(await mountsBelow(target)).toEqual([]);
    });
  });

  describe('the Secret sync reads only volumes the driver mounted for the pod', () => {
    it('a pod status forged in namespace A pointing at a volume of namespace B copies nothing into A', async () => {
      // B: a real pod with a mounted volume holding its secret.
      spc('team-b', 'b-secrets', [{ pathHex: hex('password'), contents: 'team-b-only' }]);
      const b = apiPod('b-app', 'team-b');
      const bTarget = targetOf(b.uid);
      await client.nodePublishVolume(kubeletPublishRequest({ targetPath: bTarget, spc: 'b-secrets', pod: b }));
      expect(await readFile(join(bTarget, 'password'), 'utf8')).toBe('team-b-only');
      // A: a bare pod, an SPC that syncs `password` into a Secret, and a forged pod status.
      const a = apiPod('a-app', 'team-a');
      spc('team-a', 'a-secrets', okFiles, [{ secretName: 'stolen', type: 'Opaque', data: [{ objectName: 'password', key: 'pw' }] }]);
      api.store.create('secretproviderclasspodstatuses', {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClassPodStatus',
        metadata: { name: 'a-app-team-a-a-secrets', namespace: 'team-a', labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: a.name, uid: a.uid }] },
        status: { podName: a.name, secretProviderClassName: 'a-secrets', targetPath: bTarget, mounted: true, objects: [] },
      });
      await driver.waitForLine(/no volume of this pod and SecretProviderClass mounted by this driver/);
      expect(api.store.get('secrets', 'team-a', 'stolen')).toBeUndefined();
      // A's own volume, once mounted, is what A's Secret is made from.
      const aTarget = targetOf(a.uid);
      await client.nodePublishVolume(kubeletPublishRequest({ targetPath: aTarget, spc: 'a-secrets', pod: a }));
      const deadline = Date.now() + 20_000;
      while (!api.store.get('secrets', 'team-a', 'stolen') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const synced = api.store.get('secrets', 'team-a', 'stolen') as { data: Record<string, string> } | undefined;
      expect(Buffer.from(synced?.data.pw ?? '', 'base64').toString()).toBe(secret);
      expect(await readFile(join(bTarget, 'password'), 'utf8')).toBe('team-b-only');
    });
  });

  describe('after a restart, a volume is adopted only once the API answers', () => {
    it('a republish while the API fails is UNAVAILABLE, adopts nothing and leaves the volume; the retry adopts it', async () => {
      const { target, pod } = await publishOurs('restart-0');
      const req = kubeletPublishRequest({ targetPath: target, spc: 'ok', pod });
      expect(await mountRecords()).toContain(target);
      expect(await driver.kill('SIGKILL')).toBe('SIGKILL');
      await startDriver();
      expect(await mountRecords()).not.toContain(target);
      api.faults.add({ verb: 'get', resource: 'secretproviderclasspodstatuses', code: 503 });
      try {
        const err = await failure(client.nodePublishVolume(req));
        expect(err?.code).toBe(grpc.status.UNAVAILABLE);
        expect(err?.details).toMatch(/failed to get SecretProviderClassPodStatus default\/restart-0-default-ok: Kubernetes API answered 503/);
      } finally {
        api.faults.clear();
      }
      expect(await mountRecords()).not.toContain(target);
      expect(await mountsAt(target)).toMatchObject([{ source: 'secrets-store-csi' }]);
      expect(await readFile(join(target, 'password'), 'utf8')).toBe(secret);
      const calls = provider.calls;
      expect(await client.nodePublishVolume(req)).toEqual({});
      expect(await mountRecords()).toContain(target);
      expect(provider.calls).toBe(calls); // adopted as it was: no rotation, no provider call
      expect(await client.nodeUnpublishVolume({ volume_id: 'v', target_path: target })).toEqual({});
      expect(await mountsBelow(target)).toEqual([]);
    });
  });
});
