/**
 * The rotation poller through the driver binary: with volumes due and the provider holding
 * every Mount call, a pass has as many calls in flight at the provider as
 * `--provider-max-inflight` allows — more than one, so the pass is concurrent — and none
 * waiting in the driver's own queue, so the pass keeps to the bound rather than leaning on
 * the limiter; released, the pass refetches every due volume. What a pass covers is read
 * from the driver's own debug line (`rotation pass started`, its `due` count); the bound from
 * the fake provider's control API and the driver's /metrics.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../../harness/csi-client.js';
import { startBin, startFakeProviderBin, type ManagedProcess } from '../../harness/managed-process.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const bound = 3;
const volumes = 8;

let tmp: TempRoot;
let api: StartedSimApiServer;
let provider: ManagedProcess;
let control: string;
let driver: ManagedProcess;
let metricsUrl: string;
let client: CsiClient;

beforeAll(async () => {
  tmp = await makeTempRoot('rotation-proc');
  api = await new SimApiServer({ controlPlane: false }).start();
  const providerDir = join(tmp.path, 'providers');
  await mkdir(providerDir);
  await writeFile(join(tmp.path, 'store.yaml'), 'objects:\n  - {name: a, contents: one, version: "1"}\n');
  const fake = await startFakeProviderBin({ name: 'fake', socket: join(providerDir, 'fake.sock'), store: join(tmp.path, 'store.yaml'), control: true });
  provider = fake.proc;
  control = fake.control!;
  const kubeconfig = join(tmp.path, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig, { token: api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver')), user: 'secrets-store-csi-driver' });
  const socket = join(tmp.path, 'csi', 'csi.sock');
  driver = startBin('driver/main.js', [
    `--endpoint=unix://${socket}`,
    '--nodeid=node-1',
    `--provider-volume=${providerDir}`, `--additional-provider-volume-paths=${providerDir}-none`,
    `--kubeconfig=${kubeconfig}`,
    '--metrics-addr=127.0.0.1:0',
    '--enable-secret-rotation',
    '--rotation-poll-interval=1s',
    `--provider-max-inflight=${bound}`,
    '--log-format-json',
    '-v=2',
  ]);
  metricsUrl = (JSON.parse(await driver.waitForLine(/CSI driver serving/, 30_000)) as { metrics: string }).metrics;
  api.store.create('secretproviderclasses', {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name: 'spc', namespace: 'default' },
    spec: { provider: 'fake', parameters: { objects: '- objectName: a\n' } },
  });
  client = csiClient(socket);
});

afterAll(async () => {
  client?.close();
  if (control) await fetch(`${control}/faults`, { method: 'DELETE' }).catch(() => undefined);
  await driver?.kill();
  await provider?.kill();
  await api?.stop();
  await tmp?.cleanup();
});

const providerState = async () => (await (await fetch(`${control}/state`)).json()) as { inflight: number; maxInflight: number; requests: number };
const gauge = async (name: string) => Number(new RegExp(`^${name}\\{provider="fake"[^}]*\\} (\\d+)$`, 'm').exec(await (await fetch(`${metricsUrl}/metrics`)).text())?.[1]);
const passLines = () =>
  driver
    .stderr()
    .split('\n')
    .filter((l) => l.includes('"rotation pass started"'))
    .map((l) => JSON.parse(l) as { due: number; perProviderBound: number });

it('refetches due volumes concurrently, at most --provider-max-inflight at once, with nothing queued in the driver', async () => {
  await Promise.all(
    Array.from({ length: volumes }, async (_, i) => {
      const uid = randomUUID();
      const targetPath = join(tmp.path, 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
      await mkdir(join(targetPath, '..'), { recursive: true });
      await client.nodePublishVolume(kubeletPublishRequest({ targetPath, spc: 'spc', pod: { name: `pod-${i}`, namespace: 'default', uid } }));
    }),
  );
  // Hold every Mount call until a held pass covers more volumes than the bound (the passes'
  // sizes follow when the volumes fell due; the first held pass usually does).
  let held: { due: number; perProviderBound: number } | undefined;
  for (let attempt = 0; attempt < 5 && !(held && held.due > bound); attempt++) {
    await fetch(`${control}/state/max-inflight`, { method: 'DELETE' });
    await fetch(`${control}/faults`, { method: 'PUT', body: JSON.stringify({ mode: 'hold' }) });
    await eventually(async () => (await providerState()).inflight > 0, 'a rotation pass reaching the held provider');
    const passes = passLines().length;
    // The running pass is the last one logged; wait until it has all it may have in flight.
    held = passLines()[passes - 1]!;
    const expected = Math.min(held.due, bound);
    await eventually(async () => (await providerState()).inflight === expected, `${expected} Mount calls in flight at the provider`);
    expect(await gauge('provider_mount_inflight')).toBe(expected);
    expect(await gauge('provider_mount_queued'), 'the pass queued Mount calls in the driver').toBe(0);
    expect(passLines().length, 'no second pass while one runs').toBe(passes);
    await fetch(`${control}/faults`, { method: 'DELETE' });
    await eventually(() => driver.stderr().split('\n').filter((l) => l.includes('"rotation pass done"')).length >= passes, 'the held pass to finish');
  }
  expect(held!.perProviderBound).toBe(bound);
  expect(held!.due, 'no held pass covered more volumes than the bound').toBeGreaterThan(bound);
  // Concurrent (more than one at once) and bounded, over the whole held pass.
  expect((await providerState()).maxInflight).toBe(bound);
});
