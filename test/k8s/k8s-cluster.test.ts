/**
 * The k8s target of the scenarios' Cluster interface (cluster/k8s/k8s-cluster.ts) without a
 * real node: the embedded API server stands in for the cluster's (its kubeconfig is the one
 * DIR/sim.json names), kubectl is scripted — with a tiny DaemonSet stand-in that recreates a
 * deleted DaemonSet pod, with a new IP, unless its node is labelled off, as the controller
 * would —, the kubelet's root is a temp dir on this host (where the target reads volumes,
 * as on the real node), and the driver's metrics URL of sim.json is a local HTTP server.
 * The run against the real node is `sscsi scenarios run --target k8s` (README).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../kind/bootstrap/command-runner.js';
import { K8sCluster, K8sClusterError } from '../../cluster/k8s/k8s-cluster.js';
import { fakeProviderOffLabel, type StartedDaemonSetTarget } from '../../cluster/daemonset-target.js';
import { csiVolumeDir, targetPath } from '../../cluster/kubelet-layout.js';
import { mountTmpfs } from '../../driver/mount/tmpfs-mounter.js';
import { parseManifests } from '../../sim/apiserver/bootstrap.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { packageRoot } from '../../driver/version.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let api: StartedSimApiServer;
let tmp: TempRoot;
let metricsServer: Server;
let stateDir: string;
let kubeletRoot: string;
let kubeconfig: string;
let ip = 10;

function daemonPod(app: string, node: string) {
  return api.store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${app}-${(++ip).toString(36)}`, namespace: 'kube-system', labels: { app } },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] },
    status: { phase: 'Running', podIP: `203.0.113.${ip}`, conditions: [{ type: 'Ready', status: 'True' }] },
  });
}
const podsOf = (app: string, node: string) => api.store.list('pods', 'kube-system').filter((p) => p.metadata.labels?.app === app && (p.spec as { nodeName: string }).nodeName === node);

/** kubectl as the test scripts it; every call is recorded. */
class Script implements CommandRunner {
  readonly calls: string[] = [];
  readonly off = new Set<string>();
  async run(command: string, args: readonly string[]): Promise<CommandResult> {
    const line = [command, ...args].join(' ');
    this.calls.push(line);
    const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
    if (command === 'kubectl' && args[0] === '--kubeconfig' && args[1] === kubeconfig) {
      const verb = args.slice(2).filter((a) => !a.startsWith('-') && a !== 'kube-system')[0];
      if (verb === 'label') {
        const [node, label] = args.slice(args.indexOf('node') + 1);
        if (label === `${fakeProviderOffLabel}=off`) this.off.add(node!);
        else this.off.delete(node!);
        if (!this.off.has(node!) && podsOf('fake-provider', node!).length === 0) daemonPod('fake-provider', node!);
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

const node = 'k8s-host';

beforeAll(async () => {
  tmp = await makeTempRoot('k8s-target');
  api = await new SimApiServer().start();
  stateDir = join(tmp.path, 'state');
  kubeletRoot = join(tmp.path, 'kubelet');
  await mkdir(stateDir);
  kubeconfig = join(stateDir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  metricsServer = createServer((_req, res) => res.end('node_publish_total{provider="fake",os_type="linux"} 7\n'));
  await new Promise<void>((r) => metricsServer.listen(0, '127.0.0.1', r));
  const port = (metricsServer.address() as { port: number }).port;
  await writeFile(
    join(stateDir, 'sim.json'),
    JSON.stringify({ kubeconfig: 'kubeconfig', driver: { endpoint: 'unix:///var/lib/kubelet/plugins/csi-secrets-store/csi.sock', metrics: `http://127.0.0.1:${port}/metrics`, node, nodes: [{ node, endpoint: 'unix:///x', metrics: `http://127.0.0.1:${port}/metrics` }] }, providers: [] }),
  );
  for (const obj of parseManifests(await readFile(join(packageRoot(), 'kind/manifests/secrets-store-csi-driver.yaml'), 'utf8'), 'driver')) api.store.create('daemonsets', obj);
  api.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'a-control-plane', labels: { 'node-role.kubernetes.io/control-plane': '' } } });
  api.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
  for (const n of [node, 'a-control-plane']) {
    daemonPod('csi-secrets-store', n);
    daemonPod('fake-provider', n);
  }
});
afterAll(async () => {
  await new Promise((r) => metricsServer?.close(r));
  await api?.stop();
  await tmp?.cleanup();
});

describe('the k8s target', () => {
  let c: StartedDaemonSetTarget;
  const script = new Script();

  it('refuses a state dir without sim.json, saying how to make one', async () => {
    await expect(new K8sCluster({ stateDir: join(tmp.path, 'nothing'), runner: script }).start()).rejects.toThrow(K8sClusterError);
    await expect(new K8sCluster({ stateDir: join(tmp.path, 'nothing'), runner: script }).start()).rejects.toThrow(/sim\.json .*sscsi k8s up --state-dir/);
  });

  it('connects through the kubeconfig sim.json names: schedulable node first, driver flags patched in, each provider at its pod IP', async () => {
    c = await new K8sCluster({ stateDir, runner: script, kubeletRoot, driverArgs: ['--rotation-poll-interval=2s'], readyTimeoutMs: 5000 }).start();
    expect(c.target).toBe('k8s');
    expect(c.kubeconfig).toBe(kubeconfig);
    expect(c.nodeNames).toEqual([node, 'a-control-plane']);
    const ds = api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } };
    expect(ds.spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args.filter((a) => a.startsWith('--rotation-poll-interval'))).toEqual(['--rotation-poll-interval=2s']);
    expect(script.calls).toContain(`kubectl --kubeconfig ${kubeconfig} -n kube-system rollout status daemonset/csi-secrets-store --timeout=5s`);
    const ipOf = (n: string) => (podsOf('fake-provider', n)[0]!.status as { podIP: string }).podIP;
    expect(c.providers('fake').map((p) => p.control)).toEqual([`http://${ipOf(node)}:8080`, `http://${ipOf('a-control-plane')}:8080`]);
  });

  it('reads and stats a volume file on this host under the kubelet root, and refuses paths that leave the volume', async () => {
    const [pod] = await c.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'a', image: 'b' }] } });
    const target = targetPath(kubeletRoot, pod!.metadata.uid!, 'secrets');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'db-password'), 'hunter2\u0000binary', { mode: 0o640 });
    expect((await c.readFile({ namespace: 'default', name: 'web' }, 'secrets', 'db-password')).toString()).toBe('hunter2\u0000binary');
    expect(await c.statFile({ namespace: 'default', name: 'web' }, 'secrets', 'db-password')).toMatchObject({ mode: 0o640, size: 14 });
    await expect(c.readFile({ namespace: 'default', name: 'web' }, 'secrets', '../../../../etc/shadow')).rejects.toThrow(/leaves the volume/);
  });

  it('reports as leftovers the secrets-store volume mounts and the dirs of pods that are gone, not those of live pods', async () => {
    const live = (await c.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web' }))!.metadata.uid!;
    await mkdir(csiVolumeDir(kubeletRoot, 'gone-uid', 'secrets'), { recursive: true });
    if (isRoot) {
      await mkdir(targetPath(kubeletRoot, 'gone-uid', 'secrets'));
      mountTmpfs(targetPath(kubeletRoot, 'gone-uid', 'secrets'));
    }
    const left = await c.leftovers();
    expect(left.podDirs).toEqual(c.nodeNames.map((n) => `${n}:${kubeletRoot}/pods/gone-uid`));
    expect(left.podDirs.join()).not.toContain(live);
    // Every node's view is this host's: the one mount is seen from each.
    if (isRoot) expect(left.mounts).toEqual(c.nodeNames.map((n) => `${n}:${targetPath(kubeletRoot, 'gone-uid', 'secrets')}`));
  });

  it("reads the driver's metrics where sim.json says", async () => {
    expect(await c.driverMetrics()).toMatch(/node_publish_total\{provider="fake",os_type="linux"\} 7/);
  });

  it('restarts the driver by deleting its pod and waiting for the next one', async () => {
    const before = podsOf('csi-secrets-store', node)[0]!.metadata.name;
    await c.drivers()[0]!.kill();
    expect(c.drivers()[0]!.running()).toBe(false);
    await c.drivers()[0]!.start();
    expect(script.calls).toContain(`kubectl --kubeconfig ${kubeconfig} -n kube-system delete pod ${before} --wait=true --grace-period=0 --force`);
    expect(podsOf('csi-secrets-store', node).map((p) => p.metadata.name)).not.toContain(before);
    expect(c.drivers()[0]!.running()).toBe(true);
  });

  it('takes a provider down by the node label and back, at its new pod IP', async () => {
    const p = c.providers('fake')[0]!;
    const controlBefore = p.control;
    await p.kill();
    expect(script.calls).toContain(`kubectl --kubeconfig ${kubeconfig} label node ${node} ${fakeProviderOffLabel}=off --overwrite`);
    expect(podsOf('fake-provider', node)).toEqual([]);
    expect(() => p.control).toThrow(/stopped: no control API/);
    await p.start();
    expect(p.running()).toBe(true);
    expect(p.control).toBe(`http://${(podsOf('fake-provider', node)[0]!.status as { podIP: string }).podIP}:8080`);
    expect(p.control).not.toBe(controlBefore);
  });

  it('stop deletes the namespaces the run applied (the namespace controller of the cluster takes their pods), clears the labels and restores the driver flags', async () => {
    await c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sc-run' } });
    await c.stop();
    expect(api.store.get('namespaces', undefined, 'sc-run')).toBeUndefined();
    expect(api.store.get('namespaces', undefined, 'default')).toBeDefined();
    expect(script.calls).toContain(`kubectl --kubeconfig ${kubeconfig} label node ${node} ${fakeProviderOffLabel}-`);
    const ds = api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } };
    expect(ds.spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args).toContain('--rotation-poll-interval=2m');
  });

  it('a cluster whose sim.json names another driver binary (k8s up --driver-bin) gets only upstream flags, and says which it left out', async () => {
    const other = join(tmp.path, 'state-upstream');
    await mkdir(other);
    const desc = JSON.parse(await readFile(join(stateDir, 'sim.json'), 'utf8')) as { kubeconfig: string; driver: Record<string, unknown> };
    await writeFile(join(other, 'sim.json'), JSON.stringify({ ...desc, kubeconfig, driver: { ...desc.driver, bin: '/opt/upstream/secrets-store-csi-driver' } }));
    const said: string[] = [];
    const u = await new K8sCluster({ stateDir: other, runner: script, kubeletRoot, driverArgs: ['--rotation-poll-interval=3s', '--provider-max-inflight=16'], readyTimeoutMs: 5000, log: (l) => said.push(l) }).start();
    try {
      const args = (api.store.get('daemonsets', 'kube-system', 'csi-secrets-store') as unknown as { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } } }).spec.template.spec.containers.find((x) => x.name === 'secrets-store')!.args;
      expect(args).toContain('--rotation-poll-interval=3s');
      expect(args.some((a) => a.startsWith('--provider-max-inflight'))).toBe(false);
      expect(said).toEqual(['  (not passed to /opt/upstream/secrets-store-csi-driver, not upstream flags: --provider-max-inflight=16)']);
    } finally {
      await u.stop();
    }
  });
});
