/**
 * The k8s target of the `Cluster` interface: a cluster `sscsi k8s up --state-dir DIR` runs on
 * this machine — upstream's API server and a real kubelet whose node is this host — found
 * through `DIR/sim.json` (the shape `sscsi sim up` writes: the kubeconfig, the driver's
 * metrics URL per node). What every DaemonSet-backed target does is
 * cluster/daemonset-target.ts; this file says how this one is reached:
 *
 * - kubectl with `--kubeconfig DIR/...` (the file sim.json names);
 * - a node's files are this machine's: volumes under the kubelet's root
 *   (/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~csi/<vol>/mount), read and stat'ed
 *   directly, mounts from /proc/self/mountinfo;
 * - the fake provider's control API at its pod's IP (the CNI's point-to-point route makes
 *   every pod reachable from the host; no port-forward), looked up again after each outage;
 * - the driver's metrics where sim.json says (its pod is on the host network, metrics on the
 *   node's loopback), else through the API server's pod proxy.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { FileStat, KubeObject } from '../cluster.js';
import { metricsThroughPodProxy, startDaemonSetTarget, type NodeFiles, type StartedDaemonSetTarget } from '../daemonset-target.js';
import { splitUpstreamFlags } from '../../harness/upstream-flags.js';
import { KubeObjects } from '../kube-objects.js';
import { defaultKubeletRoot } from '../kubelet-layout.js';
import { ExecaRunner, outputTail, runOk, type CommandRunner } from '../../kind/bootstrap/command-runner.js';

export interface K8sClusterOptions {
  /** The state directory `sscsi k8s up --state-dir` wrote sim.json into. */
  stateDir: string;
  /** Runs kubectl (default: the real one). */
  runner?: CommandRunner;
  /** Extra driver flags the scenarios need (patched into the driver DaemonSet for the run). */
  driverArgs?: string[];
  readyTimeoutMs?: number;
  /** Where to say what the run does differently (default: stdout). */
  log?: (line: string) => void;
  /** The kubelet's root directory (default /var/lib/kubelet, what the DaemonSets' hostPaths name). */
  kubeletRoot?: string;
}

export class K8sClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'K8sClusterError';
  }
}

/** What the k8s target reads of DIR/sim.json. */
export interface K8sDescription {
  kubeconfig: string;
  /** Per node, the driver's metrics URL on this host. */
  metrics: Map<string, string>;
  /** The driver binary when it is not ours (`k8s up --driver-bin`): it takes upstream's flags only. */
  driverBin?: string;
}

/** Reads DIR/sim.json as `sscsi k8s up` wrote it; a missing or malformed file says what to do. */
export async function readK8sDescription(stateDir: string): Promise<K8sDescription> {
  const file = join(stateDir, 'sim.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new K8sClusterError(`no ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): bring a cluster up with sscsi k8s up --state-dir ${stateDir}`);
  }
  let json: { kubeconfig?: unknown; driver?: { bin?: unknown; nodes?: Array<{ node?: unknown; metrics?: unknown }> } };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (err) {
    throw new K8sClusterError(`${file} is not JSON (${(err as Error).message}): it is written by sscsi k8s up`);
  }
  if (typeof json.kubeconfig !== 'string' || json.kubeconfig === '') throw new K8sClusterError(`${file} names no kubeconfig: it is written by sscsi k8s up`);
  const metrics = new Map<string, string>();
  for (const n of json.driver?.nodes ?? []) if (typeof n.node === 'string' && typeof n.metrics === 'string') metrics.set(n.node, n.metrics);
  const bin = json.driver?.bin;
  return { kubeconfig: isAbsolute(json.kubeconfig) ? json.kubeconfig : resolve(stateDir, json.kubeconfig), metrics, ...(typeof bin === 'string' && bin !== '' ? { driverBin: bin } : {}) };
}

/** This machine's files: the k8s target's one node is this host. */
const hostFiles: NodeFiles = {
  read: (_node, path) => readFile(path),
  async stat(_node, path): Promise<FileStat> {
    const st = await stat(path);
    return { ino: st.ino, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, size: st.size, gid: st.gid };
  },
  mountInfo: () => readFile('/proc/self/mountinfo', 'utf8'),
  list: (_node, dir) => readdir(dir).catch(() => []),
};

/** Schedulable nodes first (scenario pods run there), then by name. */
function nodeOrder(nodes: KubeObject[]): string[] {
  const controlPlane = (n: KubeObject) => Number(Object.keys(n.metadata.labels ?? {}).includes('node-role.kubernetes.io/control-plane') || (n.spec as { unschedulable?: boolean } | undefined)?.unschedulable === true);
  return [...nodes].sort((a, b) => controlPlane(a) - controlPlane(b) || a.metadata.name!.localeCompare(b.metadata.name!)).map((n) => n.metadata.name!);
}

export class K8sCluster {
  constructor(private readonly o: K8sClusterOptions) {}

  async start(): Promise<StartedDaemonSetTarget> {
    const stateDir = resolve(this.o.stateDir);
    const { kubeconfig, metrics, driverBin } = await readK8sDescription(stateDir);
    let driverArgs = this.o.driverArgs;
    if (driverBin !== undefined && driverArgs) {
      // Another driver (upstream's) refuses our own flags: it gets upstream's, the rest are said.
      const { upstream, ours } = splitUpstreamFlags(driverArgs);
      if (ours.length > 0) (this.o.log ?? ((l: string) => process.stdout.write(`${l}\n`)))(`  (not passed to ${driverBin}, not upstream flags: ${ours.join(' ')})`);
      driverArgs = upstream;
    }
    const runner = this.o.runner ?? new ExecaRunner();
    const flags = ['--kubeconfig', kubeconfig];
    const kubectl = async (...args: string[]) =>
      (await runOk(runner, 'kubectl', [...flags, ...args], undefined, (r) => new K8sClusterError(`\`kubectl ${[...flags, ...args].join(' ')}\` exited with ${r.exitCode}: ${outputTail(r, 5)}`))).stdout;
    const objects = new KubeObjects(kubeconfig);
    const nodeNames = nodeOrder(await objects.list('v1', 'Node'));
    if (nodeNames.length === 0) throw new K8sClusterError(`the cluster of ${kubeconfig} has no node: sscsi k8s up brings one up`);
    return startDaemonSetTarget({
      target: 'k8s',
      kubeconfig,
      objects,
      kubectl,
      kubectlFlags: flags,
      nodeNames,
      files: hostFiles,
      reach: {
        async reach(pod, port) {
          const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
          if (!ip) throw new K8sClusterError(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no IP yet`);
          return { url: `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`, stop: async () => undefined };
        },
      },
      metrics: async (node, pod) => {
        const url = metrics.get(node);
        if (url === undefined) return metricsThroughPodProxy(kubectl, pod);
        const res = await fetch(url);
        if (!res.ok) throw new K8sClusterError(`driver metrics on ${node} (${url}): HTTP ${res.status}`);
        return res.text();
      },
      error: (message) => new K8sClusterError(message),
      kubeletRoot: this.o.kubeletRoot ?? defaultKubeletRoot,
      ...(driverArgs?.length ? { driverArgs } : {}),
      ...(this.o.readyTimeoutMs !== undefined ? { readyTimeoutMs: this.o.readyTimeoutMs } : {}),
    });
  }
}
