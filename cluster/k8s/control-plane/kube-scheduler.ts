/**
 * kube-scheduler with its own identity (system:kube-scheduler). Serves /healthz on 127.0.0.1
 * only; ready when it answers ok.
 */
import { freePort } from '../../../harness/free-port.js';
import type { ClusterPki } from './certificates.js';
import { startComponent, type RunningComponent } from './component.js';
import { httpGet } from './https-get.js';

export interface SchedulerOptions {
  binary: string;
  pki: ClusterPki;
  kubeconfig: string;
  logFile: string;
  signal?: AbortSignal;
}

export async function startScheduler(options: SchedulerOptions): Promise<RunningComponent> {
  const { pki } = options;
  const port = await freePort();
  return startComponent({
    name: 'kube-scheduler',
    binary: options.binary,
    args: [
      `--kubeconfig=${options.kubeconfig}`,
      `--authentication-kubeconfig=${options.kubeconfig}`,
      `--authorization-kubeconfig=${options.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.schedulerServing.cert}`,
      `--tls-private-key-file=${pki.schedulerServing.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      '--leader-elect=false',
      '--profiling=false',
    ],
    logFile: options.logFile,
    readyTimeoutMs: 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
    ready: async () => {
      const r = await httpGet(`https://127.0.0.1:${port}/healthz`, { ca: pki.ca.cert });
      return r.status === 200 && r.body.trim() === 'ok';
    },
  });
}
