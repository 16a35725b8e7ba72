/**
 * The kind target of the `Cluster` interface (cluster/cluster.ts): scenarios written once
 * run against a kind cluster made by `sscsi kind up`, with the real kubelet. API operations
 * go through @kubernetes/client-node with the cluster's kubeconfig (`kind get kubeconfig`);
 * files of a pod's volume are read on its node (a kind node is a container) through
 * `docker exec`, where the kubelet sees them; the driver is restarted or killed by deleting
 * its DaemonSet pod (the DaemonSet starts a new one); a fake-provider outage takes the node
 * out of the fake-provider DaemonSet with a node label its affinity excludes, and back;
 * the fake provider's control API is reached through `kubectl port-forward`; the driver's
 * metrics through the API server's pod proxy. Scenario needs that are driver flags are
 * patched into the driver DaemonSet for the run and restored at stop; kubelet timings
 * (backoff, republish period) are the real kubelet's and cannot be changed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMountInfo } from '../../driver/mount/mount-info.js';
import type { Cluster, ComponentControl, FileStat, KubeObject, ManagedProviderControl, PodRef } from '../cluster.js';
import { KubeObjects } from '../kube-objects.js';
import { defaultKubeletRoot, isCsiVolumeMount, podsDir, volumeFilePath } from '../kubelet-layout.js';
import { outputTail, runOk, type CommandResult, type CommandRunner } from '../../kind/bootstrap/command-runner.js';
import { kindClusterExists } from '../../kind/bootstrap/kind-config.js';
import type { PortForward, PortForwarder } from './port-forward.js';

const kubeletPodsDir = podsDir(defaultKubeletRoot);
/** A node carrying this label with the value `off` runs no fake provider (fake-provider.yaml's affinity). */
export const fakeProviderOffLabel = 'secrets-store-csi-ts/fake-provider';
const driverDs = { name: 'csi-secrets-store', app: 'csi-secrets-store', container: 'secrets-store' };
const providerDs = { name: 'fake-provider', app: 'fake-provider', port: 8080 };
type DriverDaemonSet = KubeObject & { spec: { template: { spec: { containers: Array<{ name: string; args?: string[] }> } } } };

export interface KindClusterOptions {
  name: string;
  runner: CommandRunner;
  forwarder: PortForwarder;
  /** Extra driver flags the scenarios need (patched into the driver DaemonSet). */
  driverArgs?: string[];
  /** How long to wait for a DaemonSet pod to be ready again. */
  readyTimeoutMs?: number;
}

export class KindClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KindClusterError';
  }
}

export interface StartedKindCluster extends Cluster {
  readonly context: string;
  readonly nodeNames: string[];
}

export class KindCluster {
  constructor(private readonly o: KindClusterOptions) {}

  private async run(command: string, args: string[]): Promise<string> {
    const failed = (r: CommandResult) => new KindClusterError(`\`${[command, ...args].join(' ')}\` exited with ${r.exitCode}: ${outputTail(r, 5)}`);
    return (await runOk(this.o.runner, command, args, undefined, failed)).stdout;
  }

  async start(): Promise<StartedKindCluster> {
    const { name, runner } = this.o;
    const context = `kind-${name}`;
    const kubectl = (...args: string[]) => this.run('kubectl', ['--context', context, ...args]);
    if (!(await kindClusterExists(name, (command, args) => this.run(command, args)))) throw new KindClusterError(`no kind cluster named ${name}: create one with sscsi kind up --name ${name}`);
    const dir = await mkdtemp(join(tmpdir(), 'sscsi-kind-target-'));
    // What a failed start must undo, newest first: port-forwards, the driver flags, the dir.
    const undo: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })];
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, await this.run('kind', ['get', 'kubeconfig', '--name', name]), { mode: 0o600 });
      const objects = new KubeObjects(kubeconfig);
      // Workers first: scenario pods run there, and drivers()[0] is the driver they meet.
      const nodeNames = (await this.run('kind', ['get', 'nodes', '--name', name]))
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .sort((a, b) => Number(a.endsWith('-control-plane')) - Number(b.endsWith('-control-plane')) || a.localeCompare(b));

      const podOn = async (app: string, node: string): Promise<KubeObject | undefined> =>
        (await objects.list('v1', 'Pod', 'kube-system', { labelSelector: `app=${app}`, fieldSelector: `spec.nodeName=${node}` })).find((p) => !p.metadata.deletionTimestamp);
      const readyTimeout = this.o.readyTimeoutMs ?? 120_000;
      const waitReady = async (app: string, node: string, notUid?: string): Promise<KubeObject> => {
        const until = Date.now() + readyTimeout;
        for (;;) {
          const p = await podOn(app, node);
          const ready = (p?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          if (p && ready && p.metadata.uid !== notUid) return p;
          if (Date.now() > until) throw new KindClusterError(`no ready ${app} pod on node ${node} within ${readyTimeout} ms; see kubectl --context ${context} -n kube-system get pods -l app=${app} -o wide`);
          await new Promise((r) => setTimeout(r, 500));
        }
      };

      // Scenario needs: extra driver flags, for this run only.
      let originalArgs: string[] | undefined;
      /** The driver DaemonSet as it is now, and its driver container (to change, then apply). */
      const driverContainer = async () => {
        const ds = (await objects.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: driverDs.name })) as DriverDaemonSet;
        return { ds, container: ds.spec.template.spec.containers.find((c) => c.name === driverDs.container)! };
      };
      const restoreDriverArgs = async () => {
        if (!originalArgs) return;
        const { ds, container } = await driverContainer();
        container.args = originalArgs;
        await objects.apply(ds);
      };
      if (this.o.driverArgs?.length) {
        const { ds, container } = await driverContainer();
        originalArgs = container.args ?? [];
        const flagName = (a: string) => a.replace(/=.*$/, '');
        const extra = this.o.driverArgs;
        container.args = [...originalArgs.filter((a) => !extra.some((e) => flagName(e) === flagName(a))), ...extra];
        await objects.apply(ds);
        undo.push(restoreDriverArgs);
        await kubectl('-n', 'kube-system', 'rollout', 'status', `daemonset/${driverDs.name}`, `--timeout=${Math.round(readyTimeout / 1000)}s`);
      }

      const drivers = nodeNames.map((node) => new DaemonSetPodControl(`${driverDs.name}@${node}`, context, node, driverDs.app, { podOn, waitReady, kubectl }));
      const providers: FakeProviderControl[] = [];
      for (const node of nodeNames) {
        const p = new FakeProviderControl(`fake@${node}`, context, node, providerDs.app, { podOn, waitReady, kubectl }, this.o.forwarder);
        await p.connect();
        providers.push(p);
        undo.push(() => p.disconnect());
      }

      const nodeOf = async (pod: PodRef): Promise<{ node: string; uid: string }> => {
        const obj = await objects.get({ apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name });
        if (!obj) throw new KindClusterError(`pod ${pod.namespace}/${pod.name} not found`);
        const node = (obj.spec as { nodeName?: string }).nodeName;
        if (!node) throw new KindClusterError(`pod ${pod.namespace}/${pod.name} is not scheduled to a node`);
        return { node, uid: obj.metadata.uid! };
      };
      const volumeFile = async (pod: PodRef, volume: string, path: string) => {
        const { node, uid } = await nodeOf(pod);
        return { node, full: volumeFilePath(defaultKubeletRoot, uid, volume, path) };
      };

      return {
        target: 'kind',
        context,
        nodeNames,
        kubeconfig,
        ...objects.operations(),
        readFile: async (pod, volume, path) => {
          const { node, full } = await volumeFile(pod, volume, path);
          return Buffer.from((await this.run('docker', ['exec', node, 'base64', '-w0', full])).trim(), 'base64');
        },
        async statFile(pod, volume, path): Promise<FileStat> {
          const { node, full } = await volumeFile(pod, volume, path);
          const [ino, mtime, mode, size, gid] = (await runner.run('docker', ['exec', node, 'stat', '-L', '-c', '%i %Y %a %s %g', full])).stdout.trim().split(' ').map((x, i) => (i === 2 ? parseInt(x, 8) : Number(x)));
          if ([ino, mtime, mode, size, gid].some((v) => v === undefined || Number.isNaN(v))) throw new KindClusterError(`cannot stat ${full} on ${node}`);
          return { ino: ino!, mtimeMs: mtime! * 1000, mode: mode!, size: size!, gid: gid! };
        },
        async leftovers() {
          // Only what secrets-store volumes leave: CSI volume mounts, and pod dirs of pods gone.
          const live = new Set((await objects.list('v1', 'Pod')).map((p) => p.metadata.uid));
          const mounts: string[] = [];
          const podDirs: string[] = [];
          for (const node of nodeNames) {
            const info = await runner.run('docker', ['exec', node, 'cat', '/proc/self/mountinfo']);
            for (const { mountPoint } of parseMountInfo(info.stdout)) {
              if (isCsiVolumeMount(mountPoint, defaultKubeletRoot)) mounts.push(`${node}:${mountPoint}`);
            }
            const ls = await runner.run('docker', ['exec', node, 'ls', '-1', kubeletPodsDir]);
            for (const uid of ls.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) if (!live.has(uid)) podDirs.push(`${node}:${kubeletPodsDir}/${uid}`);
          }
          return { mounts, podDirs };
        },
        async driverMetrics(node = 0): Promise<string> {
          const nodeName = nodeNames[node];
          if (!nodeName) throw new KindClusterError(`no node ${node}`);
          const pod = await podOn(driverDs.app, nodeName);
          if (!pod) throw new KindClusterError(`no driver pod on ${nodeName}`);
          return kubectl('get', '--raw', `/api/v1/namespaces/kube-system/pods/${pod.metadata.name}:8095/proxy/metrics`);
        },
        drivers: () => drivers,
        providers: (name?: string) => (name === undefined || name === 'fake' ? providers : []),
        async stop() {
          for (const p of providers) await p.disconnect();
          for (const node of nodeNames) await runner.run('kubectl', ['--context', context, 'label', 'node', node, `${fakeProviderOffLabel}-`]);
          await restoreDriverArgs();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      for (const u of undo.reverse()) await u().catch(() => undefined);
      throw err;
    }
  }
}

interface PodOps {
  podOn(app: string, node: string): Promise<KubeObject | undefined>;
  waitReady(app: string, node: string, notUid?: string): Promise<KubeObject>;
  kubectl(...args: string[]): Promise<string>;
}

/** A DaemonSet's pod on one node: stopping it deletes the pod; the DaemonSet starts the next. */
class DaemonSetPodControl implements ComponentControl {
  protected up = true;
  protected lastUid: string | undefined;

  constructor(
    readonly name: string,
    protected readonly context: string,
    protected readonly node: string,
    protected readonly app: string,
    protected readonly ops: PodOps,
  ) {}

  running(): boolean {
    return this.up;
  }

  protected async deletePod(force: boolean): Promise<void> {
    const pod = await this.ops.podOn(this.app, this.node);
    if (!pod) return;
    this.lastUid = pod.metadata.uid;
    await this.ops.kubectl('-n', 'kube-system', 'delete', 'pod', pod.metadata.name!, '--wait=true', ...(force ? ['--grace-period=0', '--force'] : []));
  }

  async stop(): Promise<void> {
    await this.deletePod(false);
    this.up = false;
  }

  async kill(): Promise<void> {
    await this.deletePod(true);
    this.up = false;
  }

  /** Waits for the DaemonSet's next pod on this node to be ready. */
  async start(): Promise<void> {
    await this.ops.waitReady(this.app, this.node, this.lastUid);
    this.up = true;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  logs(): string {
    return `see: kubectl --context ${this.context} -n kube-system logs -l app=${this.app} --field-selector spec.nodeName=${this.node} --tail=200`;
  }

  async rssBytes(): Promise<number | undefined> {
    return undefined;
  }
}

/** The fake provider on one node: an outage takes the node out of its DaemonSet until start(). */
class FakeProviderControl extends DaemonSetPodControl implements ManagedProviderControl {
  private forward: PortForward | undefined;
  readonly socket = '/etc/kubernetes/secrets-store-csi-providers/fake.sock';

  constructor(name: string, context: string, node: string, app: string, ops: PodOps, private readonly forwarder: PortForwarder) {
    super(name, context, node, app, ops);
  }

  get control(): string {
    if (!this.forward) throw new KindClusterError(`the fake provider on ${this.node} is stopped: no control API`);
    return this.forward.url;
  }

  async connect(): Promise<void> {
    const pod = await this.ops.waitReady(this.app, this.node);
    this.forward = await this.forwarder.forward(this.context, 'kube-system', pod.metadata.name!, providerDs.port);
  }

  async disconnect(): Promise<void> {
    await this.forward?.stop();
    this.forward = undefined;
  }

  private async outage(force: boolean): Promise<void> {
    await this.disconnect();
    await this.ops.kubectl('label', 'node', this.node, `${fakeProviderOffLabel}=off`, '--overwrite');
    await this.deletePod(force);
    this.up = false;
  }

  override stop(): Promise<void> {
    return this.outage(false);
  }

  override kill(): Promise<void> {
    return this.outage(true);
  }

  override async start(): Promise<void> {
    await this.ops.kubectl('label', 'node', this.node, `${fakeProviderOffLabel}-`);
    await this.connect();
    this.up = true;
  }
}
