/**
 * The kind target of the scenarios' Cluster interface, with kind/docker/kubectl scripted and
 * the embedded API server standing in for the kind cluster's (its kubeconfig is what the
 * scripted `kind get kubeconfig` prints), so API operations are real HTTP while the node and
 * kubectl commands are checked as the target issues them. A tiny DaemonSet stand-in in the
 * script recreates a deleted DaemonSet pod unless its node is labelled off, as the real
 * controller would. kind itself cannot run here; `scenarios run --target kind` refuses in one
 * line (test/scenarios/scenarios-cli.test.ts).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../kind/bootstrap/command-runner.js';
import { KindCluster, KindClusterError, fakeProviderOffLabel, type StartedKindCluster } from '../../cluster/kind/kind-cluster.js';
import type { PortForwarder } from '../../cluster/kind/port-forward.js';
import { parseManifests } from '../../sim/apiserver/bootstrap.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { packageRoot } from '../../driver/version.js';

const nodes = ['ci-control-plane', 'ci-worker'];
let api: StartedSimApiServer;
let kubeconfigText: string;
let seq = 0;

function daemonPod(app: string, node: string) {
  const name = `${app}-${(++seq).toString(36)}`;
  return api.store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'kube-system', labels: { app } },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

/** kind, docker and kubectl as the test scripts them; every call is recorded. */
class Script implements CommandRunner {
  readonly calls: string[] = [];
  readonly off = new Set<string>();
  files = new Map<string, string>();
  async run(command: string, args: readonly string[]): Promise<CommandResult> {
    const line = [command, ...args].join(' ');
    this.calls.push(line);
    const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
    if (line === 'kind get clusters') return ok('other\nci\n');
    if (line === 'kind get kubeconfig --name ci') return ok(kubeconfigText);
    if (line === 'kind get nodes --name ci') return ok(`${nodes.join('\n')}\n`);
    if (command === 'docker' && args[0] === 'exec') {
      const [, node, tool, ...rest] = args;
      const path = rest.at(-1)!;
      if (tool === 'base64') return this.files.has(`${node}:${path}`) ? ok(Buffer.from(this.files.get(`${node}:${path}`)!).toString('base64')) : { exitCode: 1, stdout: '', stderr: `base64: ${path}: No such file or directory` };
      if (tool === 'stat') return ok('4242 1700000000 640 12 1000\n');
      if (tool === 'cat') return ok(`100 30 0:50 / /var/lib/kubelet/pods/gone-uid/volumes/kubernetes.io~csi/secrets/mount rw - tmpfs tmpfs rw\n101 30 0:51 / /var/lib/kubelet/pods/live/volumes/kubernetes.io~projected/token rw - tmpfs tmpfs rw\n`);
      if (tool === 'ls') return ok('gone-uid\n');
    }
    if (command === 'kubectl') {
      const verb = args.slice(2).filter((a) => !a.startsWith('-') && a !== 'kube-system')[0];
      if (verb === 'get') return ok('node_publish_total{provider="fake",os_type="linux"} 3\n');
      if (verb === 'label') {
        const [node, label] = args.slice(args.indexOf('node') + 1);
        if (label === `${fakeProviderOffLabel}=off`) this.off.add(node!);
        else this.off.delete(node!);
        // The DaemonSet stand-in brings the provider back once its node may run it again.
        if (!this.off.has(node!) && !api.store.list('pods', 'kube-system').some((p) => p.metadata.labels?.app === 'fake-provider' && (p.spec as { nodeName: string }).nodeName === node)) daemonPod('fake-provider', node!);
        return ok();
      }
      if (verb === 'delete') {
        const name = args[args.indexOf('pod') + 1]!;
        const pod = api.store.get('pods', 'kube-system', name)!;
        api.store.delete('pods', 'kube-system', name, { gracePeriodSeconds: 0 } as never);
        const app = pod.metadata.labels!.app!;
        const node = (pod.spec as { nodeName: string }).nodeName;
        if (!(app === 'fake-provider' && this.off.has(node))) daemonPod(app, node);
        return ok();
      }
      if (verb === 'rollout') return ok('daemon set "csi-secrets-store" successfully rolled out\n');
    }
    return { exitCode: 1, stdout: '', stderr: `unscripted: ${line}` };
  }
}

class Forwards implements PortForwarder {
  readonly open = new Set<string>();
  async forward(context: string, namespace: string, pod: string, port: number) {
    const url = `http://127.0.0.1:${10000 + ++seq}`;
    this.open.add(`${context} ${namespace}/${pod}:${port}`);
    const key = `${context} ${namespace}/${pod}:${port}`;
    return { url, stop: async () => void this.open.delete(key) };
  }
}

beforeAll(async () => {
  api = await new SimApiServer().start();
  const dir = await mkdtemp(join(tmpdir(), 'sscsi-kc-'));
  await api.writeKubeconfig(join(dir, 'kc'));
  kubeconfigText = await readFile(join(dir, 'kc'), 'utf8');
  await rm(dir, { recursive: true });
  for (const obj of parseManifests(await readFile(join(packageRoot(), 'kind/manifests/secrets-store-csi-driver.yaml'), 'utf8'), 'driver')) api.store.create('daemonsets', obj);
  for (const node of nodes) {
    daemonPod('csi-secrets-store', node);
    daemonPod('fake-provider', node);
  }
});
afterAll(async () => {
  await api?.stop();
});

describe('the kind target', () => {
  let c: StartedKindCluster;
  const script = new Script();
  const forwards = new Forwards();

  it('refuses a cluster that does not exist, in one line', async () => {
    await expect(new KindCluster({ name: 'nope', runner: script, forwarder: forwards }).start()).rejects.toThrow(new KindClusterError('no kind cluster named nope: create one with sscsi kind up --name nope'));
  });

  it('connects through the cluster kubeconfig, workers first, with the scenario driver flags patched in and a control API per provider', async () => {
    c = await new KindCluster({ name: 'ci', runner: script, forwarder: forwards, driverArgs: ['--enable-secret-rotation', '--rotation-poll-interval=2s'], readyTimeoutMs: 5000 }).start();
    expect(c.target).toBe('kind');
    expect(c.context).toBe('kind-ci');
    expect(c.nodeNames).toEqual(['ci-worker', 'ci-control-plane']);
    const ds = api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } };
    const args = ds.spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args;
    expect(args.filter((a) => a.startsWith('--rotation-poll-interval'))).toEqual(['--rotation-poll-interval=2s']);
    expect(args).toContain('--enable-secret-rotation');
    expect(script.calls).toContain('kubectl --context kind-ci -n kube-system rollout status daemonset/csi-secrets-store --timeout=5s');
    expect(c.providers('fake').map((p) => p.control)).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    expect([...forwards.open].every((f) => f.startsWith('kind-ci kube-system/fake-provider-') && f.endsWith(':8080'))).toBe(true);
    // API operations are real requests to the cluster's API server.
    await c.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'ci-worker', containers: [{ name: 'a', image: 'b' }] } });
    expect((await c.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web' }))?.metadata.uid).toBeTruthy();
  });

  it('reads and stats a volume file on the pod\'s node, where the kubelet sees it, and refuses paths that leave the volume', async () => {
    const uid = (await c.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web' }))!.metadata.uid!;
    const path = `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/secrets/mount/db-password`;
    script.files.set(`ci-worker:${path}`, 'hunter2\u0000binary');
    expect((await c.readFile({ namespace: 'default', name: 'web' }, 'secrets', 'db-password')).toString()).toBe('hunter2\u0000binary');
    expect(script.calls).toContain(`docker exec ci-worker base64 -w0 ${path}`);
    expect(await c.statFile({ namespace: 'default', name: 'web' }, 'secrets', 'db-password')).toEqual({ ino: 4242, mtimeMs: 1_700_000_000_000, mode: 0o640, size: 12, gid: 1000 });
    await expect(c.readFile({ namespace: 'default', name: 'web' }, 'secrets', '../../../../etc/shadow')).rejects.toThrow(/leaves the volume/);
  });

  it('reports as leftovers only secrets-store volume mounts and the dirs of pods that are gone', async () => {
    const left = await c.leftovers();
    expect(left.mounts).toEqual(nodes.map((n) => `${n}:/var/lib/kubelet/pods/gone-uid/volumes/kubernetes.io~csi/secrets/mount`).sort((a, b) => (a.includes('worker') ? -1 : b.includes('worker') ? 1 : 0)));
    expect(left.podDirs).toHaveLength(2);
  });

  it('reads the driver metrics through the API server pod proxy', async () => {
    expect(await c.driverMetrics()).toMatch(/node_publish_total/);
    expect(script.calls.at(-1)).toMatch(/^kubectl --context kind-ci get --raw \/api\/v1\/namespaces\/kube-system\/pods\/csi-secrets-store-\w+:8095\/proxy\/metrics$/);
  });

  it('restarts the driver by deleting its pod and waiting for the next one', async () => {
    const before = api.store.list('pods', 'kube-system').filter((p) => p.metadata.labels?.app === 'csi-secrets-store' && (p.spec as { nodeName: string }).nodeName === 'ci-worker')[0]!.metadata.name;
    await c.drivers()[0]!.kill();
    await c.drivers()[0]!.start();
    expect(script.calls).toContain(`kubectl --context kind-ci -n kube-system delete pod ${before} --wait=true --grace-period=0 --force`);
    const after = api.store.list('pods', 'kube-system').filter((p) => p.metadata.labels?.app === 'csi-secrets-store' && (p.spec as { nodeName: string }).nodeName === 'ci-worker');
    expect(after.map((p) => p.metadata.name)).not.toContain(before);
    expect(c.drivers()[0]!.running()).toBe(true);
  });

  it('takes a provider down for an outage (its node labelled off) and brings it back with a new control API', async () => {
    const p = c.providers('fake')[0]!;
    const controlBefore = p.control;
    await p.kill();
    expect(p.running()).toBe(false);
    expect(() => p.control).toThrow(/stopped: no control API/);
    expect(script.calls).toContain(`kubectl --context kind-ci label node ci-worker ${fakeProviderOffLabel}=off --overwrite`);
    expect(api.store.list('pods', 'kube-system').filter((x) => x.metadata.labels?.app === 'fake-provider' && (x.spec as { nodeName: string }).nodeName === 'ci-worker')).toEqual([]);
    await p.start();
    expect(p.running()).toBe(true);
    expect(p.control).not.toBe(controlBefore);
    expect(script.calls).toContain(`kubectl --context kind-ci label node ci-worker ${fakeProviderOffLabel}-`);
  });

  it('a start that fails half-way undoes what it did: port-forwards closed, driver flags restored, no temp dir left', async () => {
    const argsOf = () => (api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } }).spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args;
    const before = [...argsOf()];
    const dirsBefore = (await readdir(tmpdir())).filter((d) => d.startsWith('sscsi-kind-target-'));
    const opened = new Set<string>();
    let calls = 0;
    const failing: PortForwarder = {
      async forward(_context, _ns, pod) {
        if (++calls === 2) throw new Error('kubectl port-forward failed');
        opened.add(pod);
        return { url: 'http://127.0.0.1:1', stop: async () => void opened.delete(pod) };
      },
    };
    await expect(new KindCluster({ name: 'ci', runner: script, forwarder: failing, driverArgs: ['--rotation-poll-interval=9s'], readyTimeoutMs: 5000 }).start()).rejects.toThrow(/port-forward failed/);
    expect(opened.size).toBe(0);
    expect(argsOf()).toEqual(before);
    expect((await readdir(tmpdir())).filter((d) => d.startsWith('sscsi-kind-target-'))).toEqual(dirsBefore);
  });

  it('stop closes the port-forwards, clears the labels and restores the driver flags', async () => {
    await c.stop();
    expect(forwards.open.size).toBe(0);
    const ds = api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } };
    expect(ds.spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args).toContain('--rotation-poll-interval=2m');
  });

  it('a stop whose namespace will not go still brings the provider back and restores the driver flags, then says which namespace', async () => {
    const argsOf = () => (api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } }).spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args;
    const before = [...argsOf()];
    const d = await new KindCluster({ name: 'ci', runner: script, forwarder: forwards, driverArgs: ['--rotation-poll-interval=7s'], readyTimeoutMs: 1500 }).start();
    expect(argsOf()).toContain('--rotation-poll-interval=7s');
    // A namespace a finalizer holds: its deletion never completes (as one whose pods hang would).
    await d.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    await d.providers('fake')[0]!.kill();
    expect(script.off.has('ci-worker')).toBe(true);
    await expect(d.stop()).rejects.toThrow(/namespace held was not gone/);
    expect(script.off.size).toBe(0);
    expect(argsOf()).toEqual(before);
    expect(forwards.open.size).toBe(0);
    const held = api.store.get('namespaces', undefined, 'held');
    if (held) api.store.update('namespaces', { ...held, metadata: { ...held.metadata, finalizers: [] } } as never);
  });
});
