/**
 * `sscsi sim up --provider NAME=SOCKET`: the user's provider process (here our fake provider
 * binary run from outside as `acme`) serves every node's driver; sim.json and the summary
 * list it as external; a pod created through the kubeconfig runs with its files; SIGTERM
 * leaves no mount and leaves the user's provider running. Through the SimCluster API: an
 * external provider is not managed (no control API, start/stop reject) and one named `fake`
 * replaces the built-in fake provider.
 */
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { startBin, type ManagedProcess, startFakeProviderBin } from '../../harness/managed-process.js';
import { putObject } from '../../scenarios/fixtures.js';
import { SimCluster, type SimDescription, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { eventually as until } from '../helpers/eventually.js';
import { volumeFilePath } from '../../cluster/kubelet-layout.js';

let tmp: TempRoot;
let provider: ManagedProcess;
let socket: string;
let proc: ManagedProcess | undefined;
let cluster: StartedSimCluster | undefined;

beforeAll(async () => {
  tmp = await makeTempRoot('sim-up-provider');
  const store = join(tmp.path, 'store.yaml');
  await writeFile(store, 'objects:\n  - name: token\n    version: "42"\n    contents: "acme-token-value"\n');
  socket = join(tmp.path, 'acme.sock');
  ({ proc: provider } = await startFakeProviderBin({ name: 'acme', socket, store }));
});

afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = undefined;
  await cluster?.stop();
  cluster = undefined;
});

afterAll(async () => {
  await provider?.kill('SIGKILL');
  await tmp?.cleanup();
});


describe('sscsi sim up --provider', () => {
  it('serves the external provider to the driver, lists it in sim.json and leaves it running after SIGTERM', async () => {
    const state = join(tmp.path, 'state');
    proc = startBin('cli/main.js', ['sim', 'up', '--provider', `acme=${socket}`, '--state-dir', state]);
    await proc.waitForLine(/simulated cluster ready in \d+ ms/, 60_000);
    const sim = JSON.parse(await readFile(join(state, 'sim.json'), 'utf8')) as SimDescription;
    const link = join(state, 'nodes', 'sim-node', 'providers', 'acme.sock');
    expect(sim.providers).toEqual([
      { name: 'fake', socket: join(state, 'nodes', 'sim-node', 'providers', 'fake.sock'), control: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), node: 'sim-node' },
      { name: 'acme', external: true, socket, link, node: 'sim-node' },
    ]);
    expect(proc.stdout()).toContain(`provider acme (sim-node): external  socket ${socket}  linked as ${link}`);

    // A user's client against the kubeconfig: an SPC for acme and a pod that mounts it.
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfig);
    const api = KubernetesObjectApi.makeApiClient(kc);
    const spc = { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'acme', namespace: 'default' }, spec: { provider: 'acme', parameters: { objects: '- objectName: token\n' } } };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'app:1' }], volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'acme' } } }] },
    };
    await api.create(spc as KubernetesObject);
    await api.create(pod as KubernetesObject);
    const running = await until(async () => {
      const p = (await api.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', namespace: 'default' } })) as KubernetesObject & { status?: { phase?: string } };
      return p.status?.phase === 'Running' && p;
    }, 'pod app Running');
    const file = volumeFilePath(join(state, 'nodes', 'sim-node', 'kubelet'), running.metadata!.uid!, 'secrets', 'token');
    expect(await readFile(file, 'utf8')).toBe('acme-token-value');
    expect((await mountsUnder(state)).length).toBeGreaterThan(0);

    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    expect(await mountsUnder(state)).toEqual([]);
    // The user's provider is theirs: still serving, its socket in place.
    expect(provider.child.exitCode).toBeNull();
    await expect(readFile(link)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a bad NAME and --runtime docker with one line and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--provider', `a/b=${socket}`], /^sscsi sim up: invalid provider name "a\/b"/],
      [['--provider', `acme=${socket}`, '--runtime', 'docker'], /^sscsi sim up: --provider needs --runtime process/],
    ];
    const runs = cases.map(([args]) => startBin('cli/main.js', ['sim', 'up', ...args]));
    try {
      const codes = await Promise.all(runs.map((r) => r.exited()));
      cases.forEach(([args, message], i) => {
        expect(codes[i], args.join(' ')).toBe(2);
        expect(runs[i]!.stderr(), args.join(' ')).toMatch(message);
        expect(runs[i]!.stderr().trimEnd().split('\n')).toHaveLength(1);
      });
    } finally {
      for (const r of runs) await r.kill('SIGKILL');
    }
  });
});

describe('SimCluster with an external provider', () => {
  it('marks it external: no control API, not started or stopped by the cluster; one named fake replaces the fake provider', async () => {
    cluster = await new SimCluster({ externalProviders: [{ name: 'fake', socket }] }).start();
    const providers = cluster.providers();
    expect(providers).toHaveLength(1);
    const p = providers[0]!;
    expect(p).toMatchObject({ name: 'fake', external: true, socket });
    expect(p.control).toBeUndefined();
    expect(p.running()).toBe(true);
    for (const op of [p.start, p.stop, p.kill, p.restart]) await expect(op()).rejects.toThrow('external provider fake is not managed by the simulated cluster');
    // The fake provider's fixtures say why they cannot work with it.
    await expect(putObject(cluster, 'token', 'x')).rejects.toThrow('external provider fake is not managed by the simulated cluster: it has no control API');
    expect(cluster.describe().providers).toEqual([{ name: 'fake', external: true, socket, link: join(cluster.nodes[0]!.providerDir, 'fake.sock'), node: 'sim-node' }]);
    expect(provider.child.exitCode).toBeNull();
  });
});
