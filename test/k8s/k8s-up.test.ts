/**
 * `sscsi k8s up` / `sscsi k8s down` end to end, through the CLI as a user runs them: the node
 * Ready, both DaemonSets Ready, sim.json in the shape `sim up` writes (its control URL reaches
 * the fake provider from the host), a pod with an inline secrets-store volume running with
 * the provider's current contents in its files (read on the host under the kubelet's pods
 * dir and through `kubectl exec`), and after `down` nothing left: no process naming the state
 * dir, no mount under the kubelet's root dir, no cgroup of our pods, no route to a pod
 * address. Skips naming what is missing (root, a binary, a Debian package, an image).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentBinary, missingBinary, requireBinary } from '../../cluster/k8s/control-plane/binaries.js';
import { processesMentioning } from '../../cluster/k8s/local-cluster/down.js';
import { dockerImagesForNode } from '../../cluster/k8s/node/import-images.js';
import { mountsUnder } from '../../cluster/k8s/node/mounts.js';
import { defaultKubeletRootDir } from '../../cluster/k8s/node/paths.js';
import { podCgroups } from '../../cluster/k8s/node/pod-cgroups.js';
import { missingPrerequisites } from '../../cluster/k8s/node/prerequisites.js';
import type { SimDescription } from '../../cluster/sim/sim-cluster.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

function missingImages(): string[] {
  return dockerImagesForNode.flatMap((image) => {
    try {
      execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
      return [];
    } catch {
      return [`image ${image} not in the Docker engine (npm run sscsi -- image build)`];
    }
  });
}

const kubelet = componentBinary('kubelet');
const missing = [
  ...(process.getuid?.() !== 0 ? ['the k8s target needs root'] : []),
  ...[missingBinary(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet'])].filter((m): m is string => m !== undefined),
  ...(kubelet.path ? await missingPrerequisites(kubelet.path) : []),
  ...missingImages(),
];

const secret = `s3cr3t-${process.pid}-${Date.now()}`;
const podYaml = `apiVersion: v1
kind: Pod
metadata: {name: secrets-reader, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
      volumeMounts:
        - {name: secrets, mountPath: /mnt/secrets, readOnly: true}
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes: {secretProviderClass: fake-secrets}
`;

describe.skipIf(missing.length > 0)(`sscsi k8s up|down${missing.length ? ` (skipped: ${missing.join('; ')})` : ''}`, () => {
  let tmp: TempRoot;
  let up: ManagedProcess | undefined;
  let sim: SimDescription;
  let upMs = 0;
  const podUids: string[] = [];
  let podIps: string[] = [];
  let downDone = false;
  const kubectl = (...args: string[]) => execa(requireBinary('kubectl'), ['--kubeconfig', sim.kubeconfig, ...args], { reject: false, stdin: 'ignore' });
  const down = () => execa(process.execPath, [join('dist', 'cli', 'main.js'), 'k8s', 'down', '--state-dir', tmp.path], { reject: false, stdin: 'ignore' });

  beforeAll(async () => {
    tmp = await makeTempRoot('k8s-up');
    const started = performance.now();
    up = startBin('cli/main.js', ['k8s', 'up', '--state-dir', tmp.path]);
    // Up to ten minutes: another node on this machine holds the node lock until it stops.
    await up.waitForLine(/^k8s cluster ready in \d+ ms/, 600_000);
    upMs = Math.round(performance.now() - started);
    sim = JSON.parse(await readFile(join(tmp.path, 'sim.json'), 'utf8')) as SimDescription;
    console.log(`k8s up: ${upMs} ms\n${up.stdout()}`);
  }, 660_000);

  afterAll(async () => {
    if (up && !downDone) await down();
    await up?.kill();
    await tmp?.cleanup();
  }, 300_000);

  it('brings up a Ready node and both DaemonSets Ready', async () => {
    const ready = await kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
    expect(ready.stdout.trim()).toBe(`${sim.driver.node}=True`);
    for (const ds of ['csi-secrets-store', 'fake-provider']) {
      const r = await kubectl('-n', 'kube-system', 'get', 'daemonset', ds, '-o', 'jsonpath={.status.desiredNumberScheduled}/{.status.numberReady}');
      expect(r.stdout, `${ds}: ${r.stderr}`).toBe('1/1');
    }
  });

  it('writes sim.json like sim up: the driver socket, its metrics and the provider control URL answer from the host', async () => {
    expect(Object.keys(sim).sort()).toEqual(['driver', 'kubeconfig', 'providers']);
    expect((await stat(sim.driver.endpoint.replace(/^unix:\/\//, ''))).isSocket()).toBe(true);
    const metrics = await fetch(sim.driver.metrics);
    expect(metrics.status).toBe(200);
    const provider = sim.providers[0]!;
    expect(provider).toMatchObject({ name: 'fake', node: sim.driver.node });
    const state = await fetch(`${(provider as { control: string }).control}/state`);
    expect(state.status).toBe(200);
  });

  it('runs a pod with an inline secrets-store volume whose files hold what the provider serves', async () => {
    const control = (sim.providers[0] as { control: string }).control;
    const put = await fetch(`${control}/objects/db-password`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contents: secret }) });
    expect(put.status, await put.text()).toBeLessThan(300);
    expect((await kubectl('apply', '-f', 'kind/examples/fake-provider-spc.yaml')).exitCode).toBe(0);
    const apply = await execa(requireBinary('kubectl'), ['--kubeconfig', sim.kubeconfig, 'apply', '-f', '-'], { input: podYaml, reject: false });
    expect(apply.exitCode, apply.stderr).toBe(0);
    const wait = await kubectl('wait', '--for=condition=Ready', 'pod/secrets-reader', '--timeout=180s');
    expect(wait.exitCode, `${wait.stderr}\n${(await kubectl('describe', 'pod', 'secrets-reader')).stdout}`).toBe(0);
    const uid = (await kubectl('get', 'pod', 'secrets-reader', '-o', 'jsonpath={.metadata.uid}')).stdout;
    const onHost = join(defaultKubeletRootDir, 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
    expect(await readFile(join(onHost, 'db-password'), 'utf8')).toBe(secret);
    const exec = await kubectl('exec', 'secrets-reader', '--', 'cat', '/mnt/secrets/db-password');
    expect(exec.stderr).toBe('');
    expect(exec.stdout).toBe(secret);
    expect((await kubectl('exec', 'secrets-reader', '--', 'ls', '/mnt/secrets/keys')).stdout.trim()).toBe('api-key');
  });

  it('k8s down stops everything and leaves no process, mount, cgroup or pod address behind', async () => {
    const pods = JSON.parse((await kubectl('get', 'pods', '-A', '-o', 'json')).stdout) as { items: Array<{ metadata: { uid: string }; spec: { hostNetwork?: boolean }; status: { podIP?: string } }> };
    podUids.push(...pods.items.map((p) => p.metadata.uid));
    podIps = pods.items.filter((p) => !p.spec.hostNetwork && p.status.podIP).map((p) => p.status.podIP!);
    expect(podUids.length).toBeGreaterThanOrEqual(3);
    const started = performance.now();
    const r = await down();
    downDone = true;
    console.log(`k8s down: ${Math.round(performance.now() - started)} ms\n${r.stderr}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await up!.exited()).toBe(0);
    expect(up!.stderr()).toMatch(/^stopped$/m);
    expect(await processesMentioning(tmp.path)).toEqual([]);
    expect(await mountsUnder([defaultKubeletRootDir, tmp.path])).toEqual([]);
    const cgroups = await podCgroups();
    expect(cgroups.filter((c) => podUids.some((uid) => c.includes(`pod${uid}`)))).toEqual([]);
    const routes = (await execa('ip', ['-4', 'route', 'show'], { reject: false })).stdout;
    for (const ip of podIps) expect(routes).not.toContain(ip);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(tmp.path);
  }, 300_000);
});
