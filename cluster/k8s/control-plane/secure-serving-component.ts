/**
 * What kube-controller-manager and kube-scheduler start the same way: an API client with its
 * own kubeconfig (also for delegated authentication and authorization), serving HTTPS on
 * 127.0.0.1 only with its own certificate, no leader election, no profiling; ready when its
 * /healthz answers ok.
 */
import { freePort } from '../../../harness/free-port.js';
import type { ClusterPki } from './certificates.js';
import type { KeyPair } from './openssl.js';
import { startComponent, type RunningComponent } from './component.js';
import { httpGet } from './https-get.js';

export interface SecureServingComponent {
  name: string;
  binary: string;
  pki: ClusterPki;
  kubeconfig: string;
  /** Its serving certificate and key. */
  serving: KeyPair;
  /** Its own flags, after the shared ones. */
  args: string[];
  logFile: string;
  signal?: AbortSignal;
}

export async function startSecureServingComponent(c: SecureServingComponent): Promise<RunningComponent> {
  const port = await freePort();
  return startComponent({
    name: c.name,
    binary: c.binary,
    args: [
      `--kubeconfig=${c.kubeconfig}`,
      `--authentication-kubeconfig=${c.kubeconfig}`,
      `--authorization-kubeconfig=${c.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${c.serving.cert}`,
      `--tls-private-key-file=${c.serving.key}`,
      `--client-ca-file=${c.pki.ca.cert}`,
      '--leader-elect=false',
      '--profiling=false',
      ...c.args,
    ],
    logFile: c.logFile,
    readyTimeoutMs: 60_000,
    ...(c.signal ? { signal: c.signal } : {}),
    ready: async () => {
      const r = await httpGet(`https://127.0.0.1:${port}/healthz`, { ca: c.pki.ca.cert });
      return r.status === 200 && r.body.trim() === 'ok';
    },
  });
}
