/**
 * `sscsi sim up --driver-bin PATH`: upstream's driver (the peer built by `npm run peers`)
 * serves the simulated node with upstream's flags only; sim.json names the binary; a pod
 * with a syncing SecretProviderClass, created through the kubeconfig, runs with its files
 * and its synced Secret (upstream's informers and its protobuf Secret writes against the
 * simulated API server); its log is upstream's klog text; SIGTERM leaves no mount.
 */
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageRoot } from '../../driver/version.js';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import type { SimDescription } from '../../cluster/sim/sim-cluster.js';
import { peer } from '../../harness/peers.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { eventually as until } from '../helpers/eventually.js';
import { volumeFilePath } from '../../cluster/kubelet-layout.js';

const upstream = peer('secrets-store-csi-driver');
let proc: ManagedProcess | undefined;
let tmp: TempRoot | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = undefined;
  await tmp?.cleanup();
  tmp = undefined;
});

describe.skipIf(upstream.missing !== undefined)(`sscsi sim up --driver-bin (upstream's driver)${upstream.missing ? ` — skipped: ${upstream.missing}` : ''}`, () => {
  it('runs a pod with upstream serving the node: files, synced Secret, klog output, clean stop', { timeout: 90_000 }, async () => {
    tmp = await makeTempRoot('sim-up-driver-bin');
    const state = join(tmp.path, 'state');
    proc = startBin('cli/main.js', ['sim', 'up', '--driver-bin', upstream.path!, '--state-dir', state]);
    await proc.waitForLine(/simulated cluster ready in \d+ ms/, 60_000);
    const sim = JSON.parse(await readFile(join(state, 'sim.json'), 'utf8')) as SimDescription;
    expect(sim.driver.bin).toBe(upstream.path);
    expect(proc.stdout()).toContain(`driver binary:    ${upstream.path} (upstream flags only)`);

    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfig);
    const api = KubernetesObjectApi.makeApiClient(kc);
    const spc = {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'app', namespace: 'default' },
      spec: { provider: 'fake', parameters: { objects: '- objectName: db-username\n' }, secretObjects: [{ secretName: 'app-creds', type: 'Opaque', data: [{ objectName: 'db-username', key: 'username' }] }] },
    };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'app:1' }], volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'app' } } }] },
    };
    await api.create(spc as KubernetesObject);
    await api.create(pod as KubernetesObject);
    const running = await until(async () => {
      const p = (await api.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', namespace: 'default' } })) as KubernetesObject & { status?: { phase?: string } };
      return p.status?.phase === 'Running' && p;
    }, 'pod app Running', 30_000);
    // What the fake provider serves: the db-username object of its default store.
    const store = parse(await readFile(join(packageRoot(), 'fake-providers', 'examples', 'store.yaml'), 'utf8')) as { objects: Array<{ name: string; contents: string }> };
    const expected = store.objects.find((o) => o.name === 'db-username')!.contents;
    const file = volumeFilePath(join(state, 'nodes', 'sim-node', 'kubelet'), running.metadata!.uid!, 'secrets', 'db-username');
    const contents = await readFile(file, 'utf8');
    expect(contents).toBe(expected);
    const secret = await until(
      async () => (await api.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-creds', namespace: 'default' } })) as KubernetesObject & { data?: Record<string, string> },
      'Secret app-creds synced',
      30_000,
    );
    expect(Buffer.from(secret.data!.username!, 'base64').toString()).toBe(contents);
    expect(secret.metadata!.labels).toMatchObject({ 'secrets-store.csi.k8s.io/managed': 'true' });

    // Upstream's own output: klog text lines, and no watch that failed to decode.
    const log = await readFile(join(state, 'nodes', 'sim-node', 'driver.log'), 'utf8');
    expect(log).toMatch(/^I\d{4} [\d:.]+ +\d+ server\.go:\d+\] "Listening for connections"/m);
    expect(log).not.toMatch(/unable to decode an event from the watch stream|could not be decoded/);

    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    expect(await mountsUnder(state)).toEqual([]);
  });

  it('refuses --driver-bin with --runtime docker (exit 2)', async () => {
    proc = startBin('cli/main.js', ['sim', 'up', '--driver-bin', upstream.path!, '--runtime', 'docker']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/^sscsi sim up: --driver-bin needs --runtime process/);
  });
});
