/**
 * The `Cluster` interface on a real cluster where the driver and the fake providers run as
 * the DaemonSets of kind/manifests/ under a real kubelet: what the kind target
 * (cluster/kind) and the local node (cluster/k8s) share. Each brings only how it reaches
 * its nodes — their files (`NodeFiles`), the fake provider's control API (`ControlReach`) —
 * and a kubectl bound to the cluster.
 *
 * - API operations: KubeObjects over the cluster's kubeconfig.
 * - Files of a pod's volume: read on the pod's node where the kubelet lays them out
 *   (kubelet-layout.ts), through `NodeFiles`.
 * - The driver: restarted or killed by deleting its DaemonSet pod (gracefully, or with
 *   `--grace-period=0 --force`), started again by waiting for the DaemonSet's next pod on
 *   the node to be Ready.
 * - A fake-provider outage: the node gets the label fake-provider.yaml's affinity excludes
 *   (`secrets-store-csi-ts/fake-provider=off`) and its pod is deleted; start() removes the
 *   label and waits for the new pod.
 * - The driver's metrics: through the API server's pod proxy (port 8095, as the DaemonSet
 *   says), or where the target says.
 * - Scenario needs that are driver flags: patched into the driver DaemonSet for the run,
 *   restored at stop. Kubelet timings (backoff, republish period) are the real kubelet's.
 * - Each run starts with fresh fake providers (their pods replaced: the store and faults a
 *   previous run set are gone), as each scenario gets a fresh simulated cluster.
 * - stop() leaves the cluster as the run found it: the namespaces the run applied are deleted
 *   and waited for (their pods unpublished), providers back, labels and flags restored.
 */
import { parseMountInfo } from '../driver/mount/mount-info.js';
import type { Cluster, ComponentControl, FileStat, KubeObject, ManagedProviderControl, PodRef } from './cluster.js';
import type { KubeObjects } from './kube-objects.js';
import { defaultKubeletRoot, isCsiVolumeMount, podsDir, volumeFilePath } from './kubelet-layout.js';

/** A node carrying this label with the value `off` runs no fake provider (fake-provider.yaml's affinity). */
export const fakeProviderOffLabel = 'secrets-store-csi-ts/fake-provider';
/** The DaemonSets of kind/manifests/ (secrets-store-csi-driver.yaml, fake-provider.yaml). */
export const driverDaemonSet = { name: 'csi-secrets-store', app: 'csi-secrets-store', container: 'secrets-store', metricsPort: 8095 };
export const providerDaemonSet = { name: 'fake-provider', app: 'fake-provider', controlPort: 8080, socket: '/etc/kubernetes/secrets-store-csi-providers/fake.sock' };
const namespace = 'kube-system';
type DriverDaemonSet = KubeObject & { spec: { template: { spec: { containers: Array<{ name: string; args?: string[] }> } } } };

/** How the harness reads a node's files (paths as the node sees them). */
export interface NodeFiles {
  read(node: string, path: string): Promise<Buffer>;
  /** Follows links (`stat -L`): the `..data` links of a volume. */
  stat(node: string, path: string): Promise<FileStat>;
  /** The node's /proc/self/mountinfo text. */
  mountInfo(node: string): Promise<string>;
  /** Entry names of a directory; none when it does not exist. */
  list(node: string, dir: string): Promise<string[]>;
}

/** A URL the harness reaches a pod's port at, and how to let it go. */
export interface Reached {
  /** http://host:port */
  readonly url: string;
  stop(): Promise<void>;
}

/** How the harness reaches a port of a pod (the fake provider's control API). */
export interface ControlReach {
  reach(pod: KubeObject, port: number): Promise<Reached>;
}

/** kubectl bound to the cluster (its connection flags first); throws on a non-zero exit. */
export type Kubectl = (...args: string[]) => Promise<string>;

export interface DaemonSetTargetOptions {
  target: Cluster['target'];
  kubeconfig: string;
  objects: KubeObjects;
  kubectl: Kubectl;
  /** kubectl's connection flags, for the commands the messages suggest (`--context kind-x`). */
  kubectlFlags: string[];
  /** The nodes, the one scenario pods run on first (drivers()[0] is the driver they meet). */
  nodeNames: string[];
  files: NodeFiles;
  reach: ControlReach;
  /** Where the kubelets keep pods (default /var/lib/kubelet, the DaemonSets' hostPaths). */
  kubeletRoot?: string;
  /** Extra driver flags the scenarios need (patched into the driver DaemonSet). */
  driverArgs?: string[];
  /** How long to wait for a DaemonSet pod to be ready again. */
  readyTimeoutMs?: number;
  /**
   * The driver's /metrics text on a node, given its pod; default through the API server's
   * pod proxy (a target whose driver serves metrics on the host's loopback reads them there).
   */
  metrics?: (node: string, pod: KubeObject) => Promise<string>;
  /** The error a failure of this target is (the kind target's is KindClusterError). */
  error: (message: string) => Error;
  /** What stop() undoes last, after the cluster is back as it was (e.g. a temp dir). */
  onStop?: () => Promise<void>;
}

export interface StartedDaemonSetTarget extends Cluster {
  readonly nodeNames: string[];
}

/** The driver's /metrics text through the API server's pod proxy. */
export const metricsThroughPodProxy = (kubectl: Kubectl, pod: KubeObject): Promise<string> =>
  kubectl('get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:${driverDaemonSet.metricsPort}/proxy/metrics`);

const isReady = (p: KubeObject | undefined) => (p?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Connects to the cluster's DaemonSets (patching in the driver flags first); a failed start undoes what it did. */
export async function startDaemonSetTarget(o: DaemonSetTargetOptions): Promise<StartedDaemonSetTarget> {
  const { objects, kubectl, nodeNames } = o;
  const kubeletRoot = o.kubeletRoot ?? defaultKubeletRoot;
  const readyTimeout = o.readyTimeoutMs ?? 120_000;
  const hint = o.kubectlFlags.join(' ');
  const undo: Array<() => Promise<unknown>> = [];
  const podOn = async (app: string, node: string): Promise<KubeObject | undefined> =>
    (await objects.list('v1', 'Pod', namespace, { labelSelector: `app=${app}`, fieldSelector: `spec.nodeName=${node}` })).find((p) => !p.metadata.deletionTimestamp);
  const waitReady = async (app: string, node: string, notUid?: string): Promise<KubeObject> => {
    const until = Date.now() + readyTimeout;
    for (;;) {
      const p = await podOn(app, node);
      if (p && isReady(p) && p.metadata.uid !== notUid) return p;
      if (Date.now() > until) throw o.error(`no ready ${app} pod on node ${node} within ${readyTimeout} ms; see kubectl ${hint} -n ${namespace} get pods -l app=${app} -o wide`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const ops: PodOps = { podOn, waitReady, kubectl, hint, readyTimeoutMs: readyTimeout, error: o.error };
  try {
    // Scenario needs: extra driver flags, for this run only.
    let originalArgs: string[] | undefined;
    /** The driver DaemonSet as it is now, and its driver container (to change, then apply). */
    const driverContainer = async () => {
      const ds = (await objects.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name: driverDaemonSet.name })) as DriverDaemonSet | undefined;
      if (!ds) throw o.error(`no DaemonSet ${namespace}/${driverDaemonSet.name}: install kind/manifests/secrets-store-csi-driver.yaml`);
      return { ds, container: ds.spec.template.spec.containers.find((c) => c.name === driverDaemonSet.container)! };
    };
    const restoreDriverArgs = async () => {
      if (!originalArgs) return;
      const { ds, container } = await driverContainer();
      container.args = originalArgs;
      await objects.apply(ds);
    };
    if (o.driverArgs?.length) {
      const { ds, container } = await driverContainer();
      originalArgs = container.args ?? [];
      const flagName = (a: string) => a.replace(/=.*$/, '');
      const extra = o.driverArgs;
      container.args = [...originalArgs.filter((a) => !extra.some((e) => flagName(e) === flagName(a))), ...extra];
      await objects.apply(ds);
      undo.push(restoreDriverArgs);
      await kubectl('-n', namespace, 'rollout', 'status', `daemonset/${driverDaemonSet.name}`, `--timeout=${Math.round(readyTimeout / 1000)}s`);
    }

    const drivers = nodeNames.map((node) => new DaemonSetPodControl(`${driverDaemonSet.name}@${node}`, node, driverDaemonSet.app, ops));
    const providers: FakeProviderControl[] = [];
    for (const node of nodeNames) {
      const p = new FakeProviderControl(`fake@${node}`, node, providerDaemonSet.app, ops, o.reach);
      // A fresh provider per run, as the simulated cluster gives each scenario: the fake
      // provider keeps objects and faults a previous run set in memory until its pod goes.
      await p.renew();
      providers.push(p);
      undo.push(() => p.disconnect());
    }

    const nodeOf = async (pod: PodRef): Promise<{ node: string; uid: string }> => {
      const obj = await objects.get({ apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name });
      if (!obj) throw o.error(`pod ${pod.namespace}/${pod.name} not found`);
      const node = (obj.spec as { nodeName?: string }).nodeName;
      if (!node) throw o.error(`pod ${pod.namespace}/${pod.name} is not scheduled to a node`);
      return { node, uid: obj.metadata.uid! };
    };
    const volumeFile = async (pod: PodRef, volume: string, path: string) => {
      const { node, uid } = await nodeOf(pod);
      return { node, full: volumeFilePath(kubeletRoot, uid, volume, path) };
    };

    // The cluster outlives the run: the namespaces the run makes go at stop, with their pods
    // (and so their volumes), so that the next run — the next scenario — finds the node as
    // this one did.
    const api = objects.operations();
    const namespaces = new Set<string>();
    const apply: typeof api.apply = async (objs) => {
      const applied = await api.apply(objs);
      for (const a of applied) if (a.kind === 'Namespace' && a.metadata.name) namespaces.add(a.metadata.name);
      return applied;
    };
    const deleteNamespaces = async () => {
      for (const name of namespaces) await objects.delete({ apiVersion: 'v1', kind: 'Namespace', name });
      const until = Date.now() + readyTimeout;
      for (const name of namespaces) {
        while (await objects.get({ apiVersion: 'v1', kind: 'Namespace', name })) {
          if (Date.now() > until) throw o.error(`namespace ${name} was not gone within ${readyTimeout} ms of its deletion; see kubectl ${hint} get all -n ${name}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      namespaces.clear();
    };

    return {
      target: o.target,
      nodeNames,
      kubeconfig: o.kubeconfig,
      ...api,
      apply,
      readFile: async (pod, volume, path) => {
        const { node, full } = await volumeFile(pod, volume, path);
        return o.files.read(node, full);
      },
      statFile: async (pod, volume, path) => {
        const { node, full } = await volumeFile(pod, volume, path);
        return o.files.stat(node, full);
      },
      async leftovers() {
        // Only what secrets-store volumes leave: CSI volume mounts, and pod dirs of pods gone.
        const live = new Set((await objects.list('v1', 'Pod')).map((p) => p.metadata.uid));
        const mounts: string[] = [];
        const podDirs: string[] = [];
        const pods = podsDir(kubeletRoot);
        for (const node of nodeNames) {
          for (const { mountPoint } of parseMountInfo(await o.files.mountInfo(node))) {
            if (isCsiVolumeMount(mountPoint, kubeletRoot)) mounts.push(`${node}:${mountPoint}`);
          }
          for (const uid of await o.files.list(node, pods)) if (!live.has(uid)) podDirs.push(`${node}:${pods}/${uid}`);
        }
        return { mounts, podDirs };
      },
      async driverMetrics(node = 0): Promise<string> {
        const nodeName = nodeNames[node];
        if (!nodeName) throw o.error(`no node ${node}`);
        const pod = await podOn(driverDaemonSet.app, nodeName);
        if (!pod) throw o.error(`no driver pod on ${nodeName}`);
        return o.metrics ? o.metrics(nodeName, pod) : metricsThroughPodProxy(kubectl, pod);
      },
      drivers: () => drivers,
      providers: (name?: string) => (name === undefined || name === 'fake' ? providers : []),
      async stop() {
        // Every step runs whatever an earlier one did, so one failure (a namespace slow to go)
        // never leaves the next run a node without its provider or with this run's driver flags.
        // The provider first: pods whose mount waits on it can then finish and be deleted.
        const failures: unknown[] = [];
        const step = (f: () => Promise<unknown>) => f().catch((err: unknown) => void failures.push(err));
        for (const node of nodeNames) await kubectl('label', 'node', node, `${fakeProviderOffLabel}-`).catch(() => undefined);
        await step(deleteNamespaces);
        for (const p of providers) await step(() => p.disconnect());
        await step(restoreDriverArgs);
        await step(async () => o.onStop?.());
        if (failures.length > 0) throw failures[0];
      },
    };
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => undefined);
    throw err;
  }
}

interface PodOps {
  podOn(app: string, node: string): Promise<KubeObject | undefined>;
  waitReady(app: string, node: string, notUid?: string): Promise<KubeObject>;
  kubectl: Kubectl;
  hint: string;
  readyTimeoutMs: number;
  error: (message: string) => Error;
}

/** A DaemonSet's pod on one node: stopping it deletes the pod; the DaemonSet starts the next. */
class DaemonSetPodControl implements ComponentControl {
  protected up = true;
  protected lastUid: string | undefined;

  constructor(
    readonly name: string,
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
    await this.ops.kubectl('-n', namespace, 'delete', 'pod', pod.metadata.name!, '--wait=true', ...(force ? ['--grace-period=0', '--force'] : []));
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
    return `see: kubectl ${this.ops.hint} -n ${namespace} logs -l app=${this.app} --field-selector spec.nodeName=${this.node} --tail=200`;
  }

  async rssBytes(): Promise<number | undefined> {
    return undefined;
  }
}

/** The fake provider on one node: an outage takes the node out of its DaemonSet until start(). */
class FakeProviderControl extends DaemonSetPodControl implements ManagedProviderControl {
  private reached: Reached | undefined;
  readonly socket = providerDaemonSet.socket;

  constructor(name: string, node: string, app: string, ops: PodOps, private readonly reach: ControlReach) {
    super(name, node, app, ops);
  }

  get control(): string {
    if (!this.reached) throw this.ops.error(`the fake provider on ${this.node} is stopped: no control API`);
    return this.reached.url;
  }

  /** Replaces the node's provider pod with a new one (a fresh store) and connects to it. */
  async renew(): Promise<void> {
    await this.deletePod(false);
    await this.ops.waitReady(this.app, this.node, this.lastUid);
    await this.connect();
  }

  async connect(): Promise<void> {
    const pod = await this.ops.waitReady(this.app, this.node);
    this.reached = await this.reach.reach(pod, providerDaemonSet.controlPort);
  }

  async disconnect(): Promise<void> {
    await this.reached?.stop();
    this.reached = undefined;
  }

  private async outage(force: boolean): Promise<void> {
    const url = this.reached?.url;
    await this.ops.kubectl('label', 'node', this.node, `${fakeProviderOffLabel}=off`, '--overwrite');
    await this.deletePod(force);
    // A forced deletion removes the pod from the API at once, while its container may still
    // serve for a moment: the outage begins when its control API stops answering.
    if (url) await this.untilGone(url);
    await this.disconnect();
    this.up = false;
  }

  private async untilGone(url: string): Promise<void> {
    const until = Date.now() + this.ops.readyTimeoutMs;
    for (;;) {
      // Only the provider's own answer counts (a proxy on the way may answer for it).
      const answered = await fetch(`${url}/state`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (!answered) return;
      if (Date.now() > until) throw this.ops.error(`the fake provider on ${this.node} still answers at ${url} ${this.ops.readyTimeoutMs} ms after its pod was deleted`);
      await new Promise((r) => setTimeout(r, 200));
    }
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
