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
import { createHash } from 'node:crypto';
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

function optionsKey(options: unknown): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(options, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
  return hash.digest('hex');
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
  const cache = new Map<string, Closable | undefined>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = optionsKey(kc.createDispatcherOptions(cluster as Parameters<KubeConfig['createDispatcherOptions']>[0], agentOptions));
    if (cache.has(key)) return cache.get(key);
    const dispatcher = original.call(kc, cluster, agentOptions);
    cache.set(key, dispatcher);
    if (cache.size > maxDispatchers) {
      const [oldestKey, oldest] = cache.entries().next().value!;
      cache.delete(oldestKey);
      void oldest?.close().catch(() => undefined);
    }
    return dispatcher;
  };
  return kc;
}
