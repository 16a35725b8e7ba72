/**
 * `sscsi k8s up` / `sscsi k8s down` end to end, through the CLI as a user runs them: the node
 * Ready, both DaemonSets Ready, sim.json in the shape `sim up` writes (its control URL reaches
 * the fake provider from the host), a pod with an inline secrets-store volume running with
 * the provider's current contents in its files (read on the host under the kubelet's pods
 * dir and through `kubectl exec`), and after `down` nothing left: no process naming the state
 * dir, no mount under the kubelet's root dir, no cgroup of our pods, no route to a pod
 * address. Skips naming what is missing (root, a binary, a Debian package, an image).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKubeletRootDir } from '../../cluster/k8s/node/paths.js';
import type { SimDescription } from '../../cluster/sim/sim-cluster.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { k8sUpMissing, kubectlFor, leftovers, podTraces, secretsReaderPod } from './k8s-checks.js';

const missing = await k8sUpMissing();
const secret = `s3cr3t-${process.pid}-${Date.now()}`;

describe.skipIf(missing.length > 0)(`sscsi k8s up|down${missing.length ? ` (skipped: ${missing.join('; ')})` : ''}`, () => {
  let tmp: TempRoot;
  let up: ManagedProcess | undefined;
  let sim: SimDescription;
  let downDone = false;
  const kubectl = (...args: string[]) => kubectlFor(sim.kubeconfig)(args);
  const down = () => execa(process.execPath, [join('dist', 'cli', 'main.js'), 'k8s', 'down', '--state-dir', tmp.path], { reject: false, stdin: 'ignore' });

  beforeAll(async () => {
    tmp = await makeTempRoot('k8s-up');
    const started = performance.now();
    up = startBin('cli/main.js', ['k8s', 'up', '--state-dir', tmp.path]);
    // Up to ten minutes: another node on this machine holds the node lock until it stops.
    await up.waitForLine(/^k8s cluster ready in \d+ ms/, 600_000);
    sim = JSON.parse(await readFile(join(tmp.path, 'sim.json'), 'utf8')) as SimDescription;
    console.log(`k8s up: ${Math.round(performance.now() - started)} ms\n${up.stdout()}`);
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
    expect((await fetch(sim.driver.metrics)).status).toBe(200);
    const provider = sim.providers[0]!;
    expect(provider).toMatchObject({ name: 'fake', node: sim.driver.node });
    expect((await fetch(`${(provider as { control: string }).control}/state`)).status).toBe(200);
  });

  it('runs a pod with an inline secrets-store volume whose files hold what the provider serves', async () => {
    const control = (sim.providers[0] as { control: string }).control;
    const put = await fetch(`${control}/objects/db-password`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contents: secret }) });
    expect(put.status, await put.text()).toBeLessThan(300);
    expect((await kubectl('apply', '-f', 'kind/examples/fake-provider-spc.yaml')).exitCode).toBe(0);
    const apply = await kubectlFor(sim.kubeconfig)(['apply', '-f', '-'], secretsReaderPod);
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

  it('the bench measures pods under the real kubelet beside the sim (pod-startup --k8s-state-dir) and cleans up its namespace', async () => {
    const out = join(tmp.path, 'pod-startup.json');
    const r = await execa(process.execPath, [join('dist', 'bench', 'main.js'), '--only', 'pod-startup', '--iterations', '3', '--k8s-state-dir', tmp.path, '--json', out], { reject: false, stdin: 'ignore' });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { suites: Array<{ name: string; p50Ms: number; samples: number }> };
    expect(doc.suites.map((s) => [s.name, s.samples])).toEqual([
      ['pod create-to-Running (sim)', 3],
      ['pod create-to-Running (k8s)', 3],
    ]);
    // A real pod start includes a sandbox, a network and a container: never below a provider call's millisecond.
    expect(doc.suites[1]!.p50Ms).toBeGreaterThan(1);
    const left = await kubectl('get', 'namespaces', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}');
    expect(left.stdout.split('\n').filter((l) => l.startsWith('pod-startup-') && !l.endsWith('Terminating'))).toEqual([]);
  }, 300_000);

  it('k8s down stops everything and leaves no process, mount, cgroup or pod address behind', async () => {
    const traces = await podTraces(sim.kubeconfig);
    expect(traces.uids.length).toBeGreaterThanOrEqual(3);
    const started = performance.now();
    const r = await down();
    downDone = true;
    console.log(`k8s down: ${Math.round(performance.now() - started)} ms\n${r.stderr}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await up!.exited()).toBe(0);
    expect(up!.stderr()).toMatch(/^stopped$/m);
    expect(await leftovers(tmp.path, traces)).toEqual([]);
  }, 300_000);
});
