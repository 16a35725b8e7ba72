/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log`: the container's log as kube-apiserver
 * serves it — it checks the pod and container (400s worded as pod/strategy.go LogLocation
 * words them), then asks the pod's node's kubelet and streams what the kubelet answers as
 * text/plain. Query: `container`, `tailLines`, `timestamps`, `sinceSeconds`, `sinceTime`,
 * `limitBytes`, `previous`, `follow` (the stream stays open until the container stops or
 * the client goes).
 *
 * The API server reaches a node's kubelet through `NodeLogs` (the sim's stand-in for the
 * kubelet's :10250 endpoint): each kubelet registers itself as a `ContainerLogSource`.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject } from './object-store.js';
import { statusError } from './status.js';

export interface LogOptions {
  tailLines?: number;
  timestamps?: boolean;
  /** Only lines written at or after this time (ms since the epoch). */
  sinceMs?: number;
  limitBytes?: number;
}

/** One container's log on its node. */
export interface ContainerLogReader {
  /** The log so far, as text ('\n' after each line). */
  read(options: LogOptions): string;
  /** Calls `onText` with each line written from now on and `onEnd` when the container stops; returns the unsubscribe function. */
  follow(options: Pick<LogOptions, 'timestamps'>, onText: (text: string) => void, onEnd: () => void): () => void;
}

/** What a kubelet answers about its pods' containers' logs. */
export interface ContainerLogSource {
  /** The container's log, or an error message (as the kubelet words it) when there is none to read. */
  containerLog(pod: KubeObject, container: string, previous: boolean): ContainerLogReader | { error: string };
}

/** The kubelets the API server can reach, by node name. */
export class NodeLogs {
  private readonly sources = new Map<string, ContainerLogSource>();

  register(node: string, source: ContainerLogSource): () => void {
    this.sources.set(node, source);
    return () => {
      if (this.sources.get(node) === source) this.sources.delete(node);
    };
  }

  get(node: string): ContainerLogSource | undefined {
    return this.sources.get(node);
  }
}

interface PodSpec {
  nodeName?: string;
  containers?: Array<{ name: string }>;
  initContainers?: Array<{ name: string }>;
}

const badRequest = (message: string) => statusError(400, message, 'BadRequest');

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw statusError(422, `PodLogOptions "" is invalid: ${name}: Invalid value: ${v}: must be ${min === 0 ? 'greater than or equal to 0' : 'greater than 0'}`, 'Invalid');
  return n;
}

/** The container a log request names: the `container` parameter, or the pod's only container. */
function containerOf(pod: KubeObject, q: URLSearchParams): string {
  const spec = (pod.spec ?? {}) as PodSpec;
  const name = pod.metadata.name!;
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
  const asked = q.get('container');
  if (!asked) {
    if ((spec.containers ?? []).length === 1 && !(spec.initContainers ?? []).length) return spec.containers![0]!.name;
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]${spec.initContainers?.length ? ` or one of the init containers: [${spec.initContainers.map((c) => c.name).join(' ')}]` : ''}`);
  }
  if (!all.includes(asked)) throw badRequest(`container ${asked} is not valid for pod ${name}`);
  return asked;
}

/** Serves a pod's log request; throws an ApiError for the caller to answer before anything is written. */
export function servePodLog(pod: KubeObject, q: URLSearchParams, res: ServerResponse, nodes: NodeLogs, onClose: (close: () => void) => () => void): void {
  const container = containerOf(pod, q);
  const node = ((pod.spec ?? {}) as PodSpec).nodeName;
  if (!node) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const tailLines = intParam(q, 'tailLines', 0);
  const limitBytes = intParam(q, 'limitBytes', 1);
  const sinceSeconds = intParam(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw statusError(422, 'PodLogOptions "" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', 'Invalid');
  const sinceMs = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
  const timestamps = q.get('timestamps') === 'true';
  const source = nodes.get(node);
  if (!source) throw statusError(500, `Get "https://${node}:10250/containerLogs/${pod.metadata.namespace}/${pod.metadata.name}/${container}": no kubelet answers for node ${node}`, 'InternalError');
  const log = source.containerLog(pod, container, q.get('previous') === 'true');
  if ('error' in log) throw badRequest(log.error);
  const text = log.read({ ...(tailLines !== undefined ? { tailLines } : {}), timestamps, ...(sinceMs !== undefined ? { sinceMs } : {}), ...(limitBytes !== undefined ? { limitBytes } : {}) });
  res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  let sent = Buffer.byteLength(text);
  res.write(text);
  if (q.get('follow') !== 'true' || (limitBytes !== undefined && sent >= limitBytes)) {
    res.end();
    return;
  }
  let unsubscribe: () => void = () => undefined;
  const close = () => {
    unsubscribe();
    deregister();
    if (!res.writableEnded) res.end();
  };
  const deregister = onClose(close);
  unsubscribe = log.follow(
    { timestamps },
    (chunk) => {
      const piece = limitBytes !== undefined ? Buffer.from(chunk).subarray(0, limitBytes - sent).toString('utf8') : chunk;
      res.write(piece);
      sent += Buffer.byteLength(piece);
      if (limitBytes !== undefined && sent >= limitBytes) close();
    },
    close,
  );
  res.on('close', close);
}
