/**
 * kube-controller-manager: every default controller, each with its own service-account
 * credentials (so RBAC sees which controller acts), signing service-account tokens and
 * CSRs with the cluster's keys. Serves /healthz on 127.0.0.1 only; ready when it answers ok.
 */
import { freePort } from '../../../harness/free-port.js';
import type { ClusterPki } from './certificates.js';
import { startComponent, type RunningComponent } from './component.js';
import { httpGet } from './https-get.js';

export interface ControllerManagerOptions {
  binary: string;
  pki: ClusterPki;
  kubeconfig: string;
  serviceCidr: string;
  logFile: string;
  signal?: AbortSignal;
}

export async function startControllerManager(options: ControllerManagerOptions): Promise<RunningComponent> {
  const { pki } = options;
  const port = await freePort();
  return startComponent({
    name: 'kube-controller-manager',
    binary: options.binary,
    args: [
      `--kubeconfig=${options.kubeconfig}`,
      `--authentication-kubeconfig=${options.kubeconfig}`,
      `--authorization-kubeconfig=${options.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.controllerManagerServing.cert}`,
      `--tls-private-key-file=${pki.controllerManagerServing.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      '--controllers=*',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccount.key}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--service-cluster-ip-range=${options.serviceCidr}`,
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
