/**
 * How the harness's Kubernetes client connects: over a bounded pool of keep-alive
 * connections, as client-go multiplexes a whole program's requests over one HTTP/2
 * connection.
 *
 * @kubernetes/client-node 2.0.x builds a new undici Agent for every request to a cluster
 * with TLS settings, and an undici Agent opens as many connections as there are requests in
 * flight. A storm round creates 200 pods at once: 200 TLS handshakes, served by the
 * simulated API server in the same process and event loop that also serves the drivers
 * and runs the kubelets. On a slow or loaded machine those handshakes did not finish within
 * undici's 10 s connect timeout (`fetch failed` ← `UND_ERR_CONNECT_TIMEOUT`). Through a
 * pool of `connections`, the requests beyond it wait their turn on an open connection
 * (the simulated API server answers a create in well under a millisecond) instead.
 *
 * Contract: a KubeConfig loaded once, for one cluster and one identity (what the
 * harness's clusters hold): the first request's TLS settings make the pool; proxies keep
 * the library's own dispatcher. A long-lived watch holds a connection for as long as it
 * runs: give watches a KubeConfig of their own (unbounded), or they could take the whole
 * pool and starve every other request.
 */
import { Agent } from 'undici';
import type { KubeConfig } from '@kubernetes/client-node';

/** Connections the harness's requests share per cluster (watches have their own). */
export const harnessConnections = 8;

type CreateDispatcher = (cluster: unknown, agentOptions: unknown) => unknown;

/**
 * Makes every request of `kc` go through one keep-alive Agent with at most `connections`
 * connections (unbounded when undefined). Returns `kc`. Throws at once if the client library
 * no longer has the method this relies on, so an upgrade that changes it fails the tests.
 */
export function poolConnections(kc: KubeConfig, connections: number | undefined): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const original = target.createDispatcher;
  if (typeof original !== 'function') {
    throw new Error('@kubernetes/client-node has no KubeConfig.createDispatcher: review cluster/kube-dispatcher.ts for this client version');
  }
  let agent: Agent | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    const options = kc.createDispatcherOptions(cluster as Parameters<KubeConfig['createDispatcherOptions']>[0], agentOptions as Parameters<KubeConfig['createDispatcherOptions']>[1]);
    if (options.type !== 'agent' && options.type !== 'none') return original.call(kc, cluster, agentOptions);
    agent ??= new Agent({ ...(options.type === 'agent' ? { connect: options.connect } : {}), ...(connections === undefined ? {} : { connections }) });
    return agent;
  };
  return kc;
}
