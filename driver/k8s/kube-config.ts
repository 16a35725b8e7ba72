/**
 * Loading the driver's Kubernetes client configuration, and making it reuse connections.
 *
 * @kubernetes/client-node 2.0.x builds a new undici Agent for every request whose cluster
 * has TLS settings (a CA, client certificates, or insecure-skip-tls-verify) — which is every
 * real cluster. Each request then opens its own TCP (and TLS) connection, and each Agent
 * keeps its idle socket alive for seconds: under a mount storm the driver holds hundreds of
 * sockets and hundreds of MiB. `shareDispatchers` gives every request with the same TLS
 * settings one shared keep-alive Agent instead, as client-go's shared transport does.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { AgentOptions } from 'node:https';

/** Loads --kubeconfig, else the in-cluster config, else $KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    try {
      kc.loadFromFile(path);
    } catch (err) {
      throw new Error(`failed to load --kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
    }
  } else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error('no Kubernetes API configured: pass --kubeconfig, set $KUBECONFIG, or run the driver in a pod');
  }
  return shareDispatchers(kc);
}

interface Closable {
  close(): Promise<void>;
}
type CreateDispatcher = (cluster: unknown, agentOptions: AgentOptions) => Closable | undefined;

/** At most this many distinct TLS settings are kept (a rotated client certificate adds one). */
const maxDispatchers = 4;

/**
 * Deep equality of two dispatcher option objects: Buffers (CA, certificate, key) by their
 * bytes, everything else by value. Comparing beats hashing here: it runs on every request,
 * and a byte comparison of a certificate costs far less than encoding and hashing it.
 */
function sameOptions(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameOptions((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Makes `kc` hand out one shared dispatcher per distinct set of TLS options. Returns `kc`.
 * Throws at once if the client library no longer has the method this relies on, so an
 * upgrade that changes it fails the tests instead of silently leaking again.
 */
export function shareDispatchers(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const original = target.createDispatcher;
  if (typeof original !== 'function') {
    throw new Error('@kubernetes/client-node has no KubeConfig.createDispatcher: review driver/k8s/kube-config.ts for this client version');
  }
  // Most recently used first; at most maxDispatchers distinct option sets.
  const cache: Array<{ options: unknown; dispatcher: Closable | undefined }> = [];
  target.createDispatcher = (cluster, agentOptions) => {
    const options = kc.createDispatcherOptions(cluster as Parameters<KubeConfig['createDispatcherOptions']>[0], agentOptions);
    const i = cache.findIndex((e) => sameOptions(e.options, options));
    if (i === 0) return cache[0]!.dispatcher;
    if (i > 0) {
      const [hit] = cache.splice(i, 1);
      cache.unshift(hit!);
      return hit!.dispatcher;
    }
    const dispatcher = original.call(kc, cluster, agentOptions);
    cache.unshift({ options, dispatcher });
    if (cache.length > maxDispatchers) void cache.pop()!.dispatcher?.close().catch(() => undefined);
    return dispatcher;
  };
  return kc;
}
