/**
 * kube-controller-manager: every default controller, each with its own service-account
 * credentials (so RBAC sees which controller acts), signing service-account tokens and
 * CSRs with the cluster's keys. Serves /healthz on 127.0.0.1 only; ready when it answers ok.
 */
import type { ClusterPki } from './certificates.js';
import type { RunningComponent } from './component.js';
import { startSecureServingComponent } from './secure-serving-component.js';

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
  return startSecureServingComponent({
    name: 'kube-controller-manager',
    binary: options.binary,
    pki,
    kubeconfig: options.kubeconfig,
    serving: pki.controllerManagerServing,
    args: [
      '--controllers=*',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccount.key}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--service-cluster-ip-range=${options.serviceCidr}`,
    ],
    logFile: options.logFile,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
