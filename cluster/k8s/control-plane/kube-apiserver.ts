/**
 * kube-apiserver: HTTPS on 127.0.0.1 only, client certificates for authentication, the Node
 * and RBAC authorizers (plus NodeRestriction admission), service-account tokens signed with
 * our key, privileged pods allowed (the driver's container is one). Ready when /readyz
 * answers ok to the admin identity.
 */
import { freePort } from '../../../harness/free-port.js';
import { frontProxyClientName, type ClusterPki } from './certificates.js';
import { startComponent, type RunningComponent } from './component.js';
import { httpGet } from './https-get.js';

export interface ApiServerOptions {
  binary: string;
  pki: ClusterPki;
  etcdUrl: string;
  serviceCidr: string;
  logFile: string;
  signal?: AbortSignal;
}

export interface RunningApiServer extends RunningComponent {
  url: string;
}

export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const { pki } = options;
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const component = await startComponent({
    name: 'kube-apiserver',
    binary: options.binary,
    args: [
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The Endpoints of the `kubernetes` Service may not hold a loopback address (validation
      // refuses 127.0.0.0/8), and with no kube-proxy its cluster IP leads nowhere anyway: pods
      // that need the API (the driver) are told 127.0.0.1:<port> on the host network.
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--etcd-servers=${options.etcdUrl}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      `--cert-dir=${pki.dir}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--anonymous-auth=false',
      `--service-account-issuer=${serviceAccountIssuer}`,
      `--service-account-key-file=${pki.serviceAccount.pub}`,
      `--service-account-signing-key-file=${pki.serviceAccount.key}`,
      `--service-cluster-ip-range=${options.serviceCidr}`,
      '--allow-privileged=true',
      `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
      `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
      // The kubelet listens on 127.0.0.1 and the node's hostname resolves there (/etc/hosts);
      // its InternalIP (the machine's address) has no kubelet on it.
      '--kubelet-preferred-address-types=Hostname,InternalIP,ExternalIP',
      `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
      `--requestheader-allowed-names=${frontProxyClientName}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
      `--proxy-client-key-file=${pki.frontProxyClient.key}`,
      '--profiling=false',
    ],
    logFile: options.logFile,
    readyTimeoutMs: 120_000,
    ...(options.signal ? { signal: options.signal } : {}),
    ready: async () => {
      const r = await httpGet(`${url}/readyz`, { ca: pki.ca.cert, client: pki.admin });
      return r.status === 200 && r.body.trim() === 'ok';
    },
  });
  return Object.assign(component, { url });
}
