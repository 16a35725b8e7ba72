/**
 * The `Cluster` interface scenarios and tests are written against, once, for every target:
 * the simulated cluster (sim/sim-cluster.ts) and a kind cluster (kind/kind-cluster.ts). API
 * operations go through the Kubernetes API as any client's would, the same code for every
 * target (kube-objects.ts); files are read as the pod's container would see them, where the
 * kubelet lays them out (kubelet-layout.ts); the driver and the fake providers can be
 * stopped, killed and restarted.
 */
import type { KubeObject } from '../sim/apiserver/object-store.js';

export type { KubeObject };

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string | undefined;
  name: string;
}

export interface PodRef {
  namespace: string;
  name: string;
}

export interface ListFilter {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A component process of the cluster (a DaemonSet's pod on a real cluster). */
export interface ComponentControl {
  readonly name: string;
  running(): boolean;
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait (kill -9). */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** What it logged lately (tail), for failure reports. */
  logs(): string;
  /** Resident memory of the running process, when the target can tell. */
  rssBytes(): Promise<number | undefined>;
}

export interface FileStat {
  ino: number;
  mtimeMs: number;
  mode: number;
  size: number;
  gid: number;
}

export type PodEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; pod: KubeObject };

/** A fake provider the cluster runs: it can be stopped and killed, and has a control API. */
export interface ManagedProviderControl extends ComponentControl {
  readonly external?: false;
  /** The fake provider's control API base URL (http://host:port). */
  readonly control: string;
  readonly socket: string;
}

/**
 * A provider the user runs (`sscsi sim up --provider NAME=SOCKET`): the cluster makes its
 * socket reachable to every driver but does not start, stop or control it — start, stop,
 * kill and restart reject, and there is no control API.
 */
export interface ExternalProviderControl extends ComponentControl {
  readonly external: true;
  readonly control?: undefined;
  /** The socket the provider serves on, as the user gave it (absolute). */
  readonly socket: string;
  /** Where the node's driver finds it: `<provider dir>/<name>.sock`, a link to `socket`. */
  readonly link: string;
}

export type ProviderControl = ManagedProviderControl | ExternalProviderControl;

/** The control API of a fake provider; a clear error for an external provider. */
export function controlUrl(p: ProviderControl): string {
  if (p.external) throw new Error(`external provider ${p.name} is not managed by the simulated cluster: it has no control API`);
  return p.control;
}

/** How long `Cluster.waitForPod` waits when not told. */
export const podWaitDefaultMs = 60_000;

export interface Cluster {
  readonly target: 'sim' | 'kind';
  /** Path of an admin kubeconfig for this cluster. */
  readonly kubeconfig: string;
  /** Creates each object, or updates it if it exists. Accepts YAML text (multi-document) or objects. */
  apply(objects: string | KubeObject | KubeObject[]): Promise<KubeObject[]>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace?: string, filter?: ListFilter): Promise<KubeObject[]>;
  /** Deletes; a missing object is not an error. */
  delete(ref: ObjectRef, options?: { gracePeriodSeconds?: number }): Promise<void>;
  /**
   * Waits until `predicate` holds for the pod (or, for 'Deleted', until it is gone), at most
   * `timeoutMs` (default podWaitDefaultMs). On timeout, throws with the pod's phase,
   * conditions and recent events.
   */
  waitForPod(pod: PodRef, until: 'Running' | 'Deleted' | ((pod: KubeObject) => boolean), timeoutMs?: number): Promise<KubeObject | undefined>;
  /** Reads a file from a pod's volume as its container sees it. */
  readFile(pod: PodRef, volume: string, path: string): Promise<Buffer>;
  /** Stats a file in a pod's volume (following the ..data links), as its container sees it. */
  statFile(pod: PodRef, volume: string, path: string): Promise<FileStat>;
  /** Streams pod changes in a namespace until the returned function is called. */
  watchPods(namespace: string, onEvent: (e: PodEvent) => void): Promise<() => void>;
  /** What is left on the nodes: mount points and pod directories under the kubelets' roots. */
  leftovers(): Promise<{ mounts: string[]; podDirs: string[] }>;
  /** The driver's /metrics text (first node unless `node` is given). */
  driverMetrics(node?: number): Promise<string>;
  /** Events in a namespace, oldest first; only those about `involvedName` when given. */
  events(namespace: string, involvedName?: string): Promise<KubeObject[]>;
  /** One driver per node. */
  drivers(): ComponentControl[];
  /** The providers (per node on multi-node clusters): fake ones and external ones (`external: true`). */
  providers(name?: string): ProviderControl[];
  stop(): Promise<void>;
}

/** The part of a `Cluster` that is the Kubernetes API, the same for every target (KubeObjects.operations). */
export type ApiOperations = Pick<Cluster, 'apply' | 'get' | 'list' | 'delete' | 'waitForPod' | 'events' | 'watchPods'>;
