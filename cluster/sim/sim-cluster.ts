/**
 * The simulated cluster: the embedded API server and control plane in this process, and
 * per node a simulated kubelet plus the driver and the fake providers as separate OS
 * processes started with the flags their DaemonSets pass, all under one root directory:
 *
 *   <root>/kubeconfig                 admin identity
 *   <root>/driver-kubeconfig          the driver's ServiceAccount identity (RBAC enforced)
 *   <root>/nodes/<node>/kubelet/      the kubelet's root (pods/<uid>/volumes/...)
 *   <root>/nodes/<node>/plugins/csi-secrets-store/csi.sock
 *   <root>/nodes/<node>/providers/<name>.sock   (a link to the socket of an external provider)
 *   <root>/nodes/<node>/*.log         what each process wrote
 *   <root>/kubelet.log                what the simulated kubelets did (pino JSON)
 *
 * Lifecycle in the types: `new SimCluster(options)` → `start()` → `StartedSimCluster`.
 */
import { createWriteStream } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { packageRoot } from '../../driver/version.js';
import { driverFlags } from '../../harness/driver-flags.js';
import { freePort } from '../../harness/free-port.js';
import { unmountAllUnder } from '../../harness/host-mounts.js';
import { bindSharedMount } from '../../driver/mount/tmpfs-mounter.js';
import { waitForDriverSocket } from '../../harness/driver-ready.js';
import { rssBytes, startBin, startCommand, type ManagedProcess } from '../../harness/managed-process.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { SimKubelet, type KubeletTimings } from '../../sim/kubelet/kubelet.js';
import type { Cluster, ComponentControl, FileStat, ManagedProviderControl, PodRef, ProviderControl } from '../cluster.js';
import { driverImage, fakeProviderImage } from '../../kind/bootstrap/images.js';
import { ContainerComponent, imagePresent, simRootLabel } from './container-component.js';
import { KubeObjects } from '../kube-objects.js';
import { podsDir, volumeFilePath } from '../kubelet-layout.js';
import { checkExternalProviders, ExternalProvider, linkExternalProvider, type ExternalProviderSpec } from './external-provider.js';

export type { ExternalProviderSpec };

export interface ProviderSpec {
  name: string;
  /** The fake provider's YAML store; default fake-providers/examples/store.yaml. */
  storeFile?: string;
}

export interface SimClusterOptions {
  /** Where everything lives; a new temp dir (removed at stop) when unset. */
  stateDir?: string;
  nodes?: number;
  /** Fake providers started on every node; default one named `fake`. */
  providers?: ProviderSpec[];
  /**
   * Providers the user runs, reachable from every node's driver (a link in its provider
   * directory); not started or stopped by the cluster. One replaces a fake provider of the
   * same name. Process runtime only: a container would not see the socket.
   */
  externalProviders?: ExternalProviderSpec[];
  /** Extra flags for the driver. */
  driverArgs?: string[];
  /**
   * A driver binary to run instead of ours (e.g. upstream's), started with upstream's flags
   * only: the placement flags and `driverArgs`. Process runtime only.
   */
  driverBin?: string;
  kubeletTimings?: Partial<KubeletTimings>;
  logger?: Logger;
  /**
   * How the driver and the providers run: as OS processes (default), or as containers on a
   * local Docker engine from the images of kind/Dockerfile.* (container-component.ts).
   */
  runtime?: Runtime;
  /**
   * Share (0..1) of the driver identity's API requests that meet an injected fault: 409
   * (on writes), 429 with Retry-After, 500, 503 or 200 ms of latency, evenly mixed.
   * The counts are on `api.faults.injected()`.
   */
  apiFaultRate?: number;
}

export type Runtime = 'process' | 'docker';

export const defaultStoreFile = () => join(packageRoot(), 'fake-providers', 'examples', 'store.yaml');

/** How a process component is started and when it is ready. */
interface Launch {
  start(logFile: string): ManagedProcess;
  ready(proc: ManagedProcess): Promise<void>;
}

/** One of our bins, ready when it prints its ready line. */
const ourBin = (bin: 'driver/main.js' | 'fake-providers/main.js', args: () => string[], ready: RegExp): Launch => ({
  start: (logFile) => startBin(bin, args(), { keepChars: 256 * 1024, logFile }),
  ready: async (proc) => void (await proc.waitForLine(ready, 30_000)),
});

/** A driver binary that is not ours (`--driver-bin`), ready when its socket answers Probe. */
const otherDriverBin = (bin: string, args: () => string[], socket: string): Launch => ({
  start: (logFile) => startCommand(bin, args(), { keepChars: 256 * 1024, logFile }),
  ready: async (proc) => (await waitForDriverSocket(socket, { waitMs: 60_000, proc })).close(),
});

/** A process that can be stopped, killed and started again with the same flags. */
class ProcessComponent implements ComponentControl {
  private proc: ManagedProcess | undefined;

  constructor(
    readonly name: string,
    private readonly launch: Launch,
    private readonly logFile: string,
  ) {}

  running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    this.proc = this.launch.start(this.logFile);
    await this.launch.ready(this.proc);
  }

  async stop(): Promise<void> {
    await this.proc?.kill('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.proc?.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  logs(): string {
    return this.proc ? `${this.proc.stdout()}${this.proc.stderr()}`.slice(-20_000) : '';
  }

  pid(): number | undefined {
    return this.running() ? this.proc?.child.pid : undefined;
  }

  async rssBytes(): Promise<number | undefined> {
    const pid = this.pid();
    return pid === undefined ? undefined : rssBytes(pid);
  }
}

type Component = ComponentControl & { pid(): number | undefined };

/** A provider: its component (process or container) and where it serves. */
class ProviderComponent implements ManagedProviderControl {
  constructor(
    private readonly inner: Component,
    readonly socket: string,
    readonly control: string,
  ) {}
  get name(): string {
    return this.inner.name;
  }
  running = () => this.inner.running();
  start = () => this.inner.start();
  stop = () => this.inner.stop();
  kill = () => this.inner.kill();
  restart = () => this.inner.restart();
  logs = () => this.inner.logs();
  rssBytes = () => this.inner.rssBytes();
}

export interface SimNode {
  name: string;
  dir: string;
  kubeletRoot: string;
  csiSocket: string;
  providerDir: string;
  metricsAddr: string;
  driver: Component;
  providers: ProviderControl[];
  kubelet: SimKubelet;
}

export interface StartedSimCluster extends Cluster {
  readonly runtime: Runtime;
  readonly root: string;
  readonly api: StartedSimApiServer;
  readonly nodes: SimNode[];
  /** The driver identity's kubeconfig (RBAC-limited). */
  readonly driverKubeconfig: string;
  /** What `sscsi sim up` writes to sim.json. */
  describe(): SimDescription;
}

export interface SimDescription {
  kubeconfig: string;
  /** `bin`: the driver binary when it is not ours (`driverBin`). */
  driver: { endpoint: string; metrics: string; node: string; nodes: Array<{ node: string; endpoint: string; metrics: string }>; bin?: string };
  providers: Array<SimProviderDescription | SimExternalProviderDescription>;
}

/** A fake provider the sim runs. */
export interface SimProviderDescription {
  name: string;
  socket: string;
  control: string;
  node: string;
}

/** A provider the user runs: `socket` is theirs, `link` is where the node's driver finds it. */
export interface SimExternalProviderDescription {
  name: string;
  external: true;
  socket: string;
  link: string;
  node: string;
}

export class SimCluster {
  constructor(private readonly options: SimClusterOptions = {}) {}

  async start(): Promise<StartedSimCluster> {
    // External providers are checked before anything is created.
    const externals = checkExternalProviders(this.options.externalProviders ?? []);
    if (externals.length > 0 && this.options.runtime === 'docker') {
      throw new Error(`external providers need the process runtime: with --runtime docker the drivers run in containers and cannot reach ${externals.map((e) => e.socket).join(', ')}`);
    }
    if (this.options.driverBin !== undefined) {
      if (this.options.runtime === 'docker') throw new Error(`--driver-bin needs the process runtime: with --runtime docker the driver runs from the image ${driverImage}`);
      await access(this.options.driverBin, constants.X_OK).catch(() => {
        throw new Error(`--driver-bin ${this.options.driverBin} is not an executable file`);
      });
    }
    const ownRoot = this.options.stateDir === undefined;
    const root = ownRoot ? await mkdtemp(join(tmpdir(), 'sscsi-sim-')) : resolve(this.options.stateDir!);
    await mkdir(root, { recursive: true });
    const logStream = this.options.logger ? undefined : createWriteStream(join(root, 'kubelet.log'), { flags: 'a' });
    const logger = this.options.logger ?? createLogger({ name: 'sscsi-sim', level: 'info', destination: logStream! });
    const runtime = this.options.runtime ?? 'process';
    if (runtime === 'docker') {
      for (const image of [driverImage, fakeProviderImage]) {
        if (!imagePresent(image)) throw new Error(`--runtime docker needs the image ${image} on the local Docker engine: build it with npm run sscsi -- image build (see README, Run on a real cluster)`);
      }
      // The containers bind the root with rshared propagation: it must be a shared mount.
      bindSharedMount(root);
    }
    const api = await new SimApiServer().start();
    const nodes: SimNode[] = [];
    const stopAll = async () => {
      for (const n of nodes) await n.kubelet.stop({ unpublish: true }).catch(() => undefined);
      for (const n of nodes) {
        await n.driver.stop().catch(() => undefined);
        for (const p of n.providers) {
          // External providers are the user's: only the link to them goes.
          if (p.external) await rm(p.link, { force: true }).catch(() => undefined);
          else await p.stop().catch(() => undefined);
        }
      }
      await api.stop();
      await unmountAllUnder(root);
      await new Promise((r) => (logStream ? logStream.end(r) : r(undefined)));
      if (ownRoot) await rm(root, { recursive: true, force: true });
    };
    try {
      const kubeconfig = join(root, 'kubeconfig');
      await api.writeKubeconfig(kubeconfig);
      const driverUser = serviceAccountUser('kube-system', 'secrets-store-csi-driver');
      const driverToken = api.addIdentity(driverUser);
      if (this.options.apiFaultRate) api.faults.setRandom({ user: driverUser.name, rate: this.options.apiFaultRate });
      const driverKubeconfig = join(root, 'driver-kubeconfig');
      await api.writeKubeconfig(driverKubeconfig, { token: driverToken, user: 'secrets-store-csi-driver' });

      const providerSpecs = (this.options.providers ?? [{ name: 'fake' }]).filter((p) => !externals.some((e) => e.name === p.name));
      const nodeCount = this.options.nodes ?? 1;
      for (let i = 0; i < nodeCount; i++) {
        const name = nodeCount === 1 ? 'sim-node' : `sim-node-${i + 1}`;
        const dir = join(root, 'nodes', name);
        const kubeletRoot = join(dir, 'kubelet');
        const providerDir = join(dir, 'providers');
        const csiSocket = join(dir, 'plugins', 'csi-secrets-store', 'csi.sock');
        await mkdir(kubeletRoot, { recursive: true });
        await mkdir(providerDir, { recursive: true });
        // The provider containers run unprivileged: they may create their sockets here (sticky,
        // like /tmp), as the fake-provider DaemonSet's init container allows on a node.
        // Its parents need only be traversable (0711: no listing of the kubeconfigs beside them).
        if (runtime === 'docker') {
          await chmod(providerDir, 0o1777);
          for (const d of [root, join(root, 'nodes'), dir]) await chmod(d, 0o711);
        }
        const providers: ProviderControl[] = [];
        for (const spec of providerSpecs) {
          const socket = join(providerDir, `${spec.name}.sock`);
          const port = await freePort();
          const args = () => ['--name', spec.name, '--socket', socket, '--store', spec.storeFile ?? defaultStoreFile(), '--control-addr', `127.0.0.1:${port}`, '--log-format-json'];
          const ready = /^\{"ready":true/;
          const inner: Component =
            runtime === 'docker'
              ? new ContainerComponent(spec.name, { image: fakeProviderImage, sharedDirs: [root], readOnlyDirs: [dirname(spec.storeFile ?? defaultStoreFile())], mounts: false, logFile: join(dir, `provider-${spec.name}.log`), labels: { [simRootLabel]: root } }, args, ready)
              : new ProcessComponent(spec.name, ourBin('fake-providers/main.js', args, ready), join(dir, `provider-${spec.name}.log`));
          const p = new ProviderComponent(inner, socket, `http://127.0.0.1:${port}`);
          await p.start();
          providers.push(p);
        }
        for (const e of externals) providers.push(new ExternalProvider(e.name, e.socket, await linkExternalProvider(e, providerDir)));
        const metricsAddr = `127.0.0.1:${await freePort()}`;
        const placement = driverFlags({ socket: csiSocket, nodeId: name, providerDir, additionalProviderDir: join(dir, 'etc-providers'), metricsAddr, kubeconfig: driverKubeconfig });
        const driverBin = this.options.driverBin;
        // Another binary gets upstream's flags only: the placement and what the caller passes.
        const driverArgs = () => [...placement, ...(driverBin ? [] : ['--log-format-json']), ...(this.options.driverArgs ?? [])];
        // Upstream's driver does not create its socket's directory (the DaemonSet's hostPath does).
        await mkdir(dirname(csiSocket), { recursive: true });
        const driverLog = join(dir, 'driver.log');
        const driver: Component =
          runtime === 'docker'
            ? new ContainerComponent('secrets-store-csi-driver', { image: driverImage, sharedDirs: [root], mounts: true, logFile: driverLog, labels: { [simRootLabel]: root } }, driverArgs, /CSI driver serving/)
            : new ProcessComponent('secrets-store-csi-driver', driverBin ? otherDriverBin(driverBin, driverArgs, csiSocket) : ourBin('driver/main.js', driverArgs, /CSI driver serving/), driverLog);
        await driver.start();
        const kubelet = new SimKubelet({
          store: api.store,
          nodeName: name,
          rootDir: kubeletRoot,
          csiSocket,
          logger: logger.child({ component: 'kubelet', node: name }),
          nodeIp: `10.0.0.${i + 2}`,
          ...(this.options.kubeletTimings ? { timings: this.options.kubeletTimings } : {}),
        }).start();
        api.nodeLogs.register(name, kubelet);
        nodes.push({ name, dir, kubeletRoot, csiSocket, providerDir, metricsAddr, driver, providers, kubelet });
      }

      const objects = new KubeObjects(kubeconfig);
      const findPod = (pod: PodRef) => api.store.get('pods', pod.namespace, pod.name);
      /** Where a file of a pod's volume is on the node, refusing paths that leave the volume. */
      const volumePath = (pod: PodRef, volume: string, path: string): string => {
        const obj = findPod(pod);
        if (!obj) throw new Error(`pod ${pod.namespace}/${pod.name} not found`);
        const nodeName = (obj.spec as { nodeName?: string }).nodeName;
        const node = nodes.find((n) => n.name === nodeName);
        if (!node) throw new Error(`pod ${pod.namespace}/${pod.name} is not on a node of this cluster`);
        return volumeFilePath(node.kubeletRoot, obj.metadata.uid!, volume, path);
      };
      const describe = (): SimDescription => ({
        kubeconfig,
        driver: {
          endpoint: `unix://${nodes[0]!.csiSocket}`,
          metrics: `http://${nodes[0]!.metricsAddr}/metrics`,
          node: nodes[0]!.name,
          nodes: nodes.map((n) => ({ node: n.name, endpoint: `unix://${n.csiSocket}`, metrics: `http://${n.metricsAddr}/metrics` })),
          ...(this.options.driverBin ? { bin: this.options.driverBin } : {}),
        },
        providers: nodes.flatMap((n) =>
          n.providers.map((p) => (p.external ? { name: p.name, external: true as const, socket: p.socket, link: p.link, node: n.name } : { name: p.name, socket: p.socket, control: p.control, node: n.name })),
        ),
      });
      return {
        target: 'sim',
        runtime,
        root,
        api,
        nodes,
        kubeconfig,
        driverKubeconfig,
        describe,
        ...objects.operations(),
        readFile: async (pod: PodRef, volume: string, path: string): Promise<Buffer> => readFile(volumePath(pod, volume, path)),
        async statFile(pod: PodRef, volume: string, path: string): Promise<FileStat> {
          const st = await stat(volumePath(pod, volume, path));
          return { ino: st.ino, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, size: st.size, gid: st.gid };
        },
        async leftovers() {
          const mounts: string[] = [];
          const podDirs: string[] = [];
          for (const n of nodes) {
            const pods = podsDir(n.kubeletRoot);
            mounts.push(...(await mountsUnder(pods)).map((m) => m.mountPoint));
            podDirs.push(...(await readdir(pods).catch(() => [] as string[])).map((d) => join(pods, d)));
          }
          return { mounts, podDirs };
        },
        async driverMetrics(node = 0): Promise<string> {
          const n = nodes[node];
          if (!n) throw new Error(`no node ${node}`);
          const res = await fetch(`http://${n.metricsAddr}/metrics`);
          if (!res.ok) throw new Error(`driver metrics on ${n.name}: HTTP ${res.status}`);
          return res.text();
        },
        drivers: () => nodes.map((n) => n.driver),
        providers: (name?: string) => nodes.flatMap((n) => n.providers.filter((p) => name === undefined || p.name === name)),
        stop: stopAll,
      };
    } catch (err) {
      await stopAll();
      throw err;
    }
  }
}
