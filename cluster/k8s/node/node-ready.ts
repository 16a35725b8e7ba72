/**
 * Waiting for the node by condition, never by sleeping: connected, until the Node object's
 * `Ready` condition is True (read with the kubelet's own credentials, which the Node
 * authorizer lets read its own Node); standalone, until the kubelet's healthz answers `ok`.
 * Either wait fails at once when the kubelet exits, quoting its log.
 */
import { CoreV1Api, KubeConfig, type V1NodeCondition } from '@kubernetes/client-node';
import type { Daemon } from './daemon.js';
import { logTail } from './log-tail.js';

export interface ReadyWait {
  kubelet: Daemon;
  kubeletLog: string;
  timeoutMs: number;
}

async function poll(w: ReadyWait, what: string, check: () => Promise<string | true>): Promise<void> {
  const until = Date.now() + w.timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (w.kubelet.hasExited()) throw new Error(`the kubelet exited (${await w.kubelet.exited}) while waiting for ${what}; ${await logTail(w.kubeletLog, 25)}`);
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > until) throw new Error(`${what} not reached within ${w.timeoutMs} ms (last: ${last}); ${await logTail(w.kubeletLog, 25)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Resolves once Node `nodeName` reports Ready=True. */
export async function waitForNodeReady(kubeconfig: string, nodeName: string, w: ReadyWait): Promise<V1NodeCondition> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  let ready: V1NodeCondition | undefined;
  await poll(w, `node ${nodeName} Ready`, async () => {
    const node = await api.readNode({ name: nodeName });
    ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') return true;
    return ready ? `Ready=${ready.status} ${ready.reason ?? ''}: ${ready.message ?? ''}` : 'no Ready condition yet';
  });
  return ready!;
}

/** Resolves once the kubelet's healthz (http://127.0.0.1:PORT/healthz) answers `ok`. */
export async function waitForKubeletHealthy(healthzPort: number, w: ReadyWait): Promise<void> {
  await poll(w, `kubelet healthz on 127.0.0.1:${healthzPort}`, async () => {
    const r = await fetch(`http://127.0.0.1:${healthzPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
    const body = await r.text();
    return r.ok && body.trim() === 'ok' ? true : `healthz ${r.status}: ${body.trim().slice(0, 200)}`;
  });
}
