/**
 * Every certificate and key the cluster needs, made once per state dir under `<dir>/pki`:
 * the CA; the API server's serving certificate (the names and the service IP a client may
 * dial); one client certificate per identity (the Node and RBAC authorizers read the
 * subject: CN is the user, O the groups); serving certificates for the controller-manager,
 * the scheduler and the kubelet; the service-account signing key pair; and the front-proxy
 * CA and client (the request-header authentication that the controller-manager and the
 * scheduler look up in kube-system/extension-apiserver-authentication).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, createKeyPair, issueLeaf, type KeyPair } from './openssl.js';

export interface ClusterPki {
  dir: string;
  ca: KeyPair;
  apiserver: KeyPair;
  /** The API server's identity toward kubelets (logs, exec, port-forward). */
  apiserverKubeletClient: KeyPair;
  admin: KeyPair;
  controllerManager: KeyPair;
  controllerManagerServing: KeyPair;
  scheduler: KeyPair;
  schedulerServing: KeyPair;
  /** system:node:<nodeName> in group system:nodes: what the Node authorizer lets a kubelet do. */
  kubelet: KeyPair;
  kubeletServing: KeyPair;
  serviceAccount: { key: string; pub: string };
  frontProxyCa: KeyPair;
  frontProxyClient: KeyPair;
}

export interface PkiOptions {
  nodeName: string;
  /** The first address of the service range: the `kubernetes` Service's cluster IP. */
  serviceIp: string;
  /** Extra addresses the kubelet may be dialled on (its node IPs). */
  nodeIps?: readonly string[];
}

export const adminUser = 'kubernetes-admin';
export const mastersGroup = 'system:masters';
export const frontProxyClientName = 'front-proxy-client';

export async function createClusterPki(dir: string, options: PkiOptions): Promise<ClusterPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, frontProxyCa] = await Promise.all([createCa(dir, 'sscsi-k8s-ca'), createCa(dir, 'sscsi-k8s-front-proxy-ca', 'front-proxy-ca')]);
  const local = { dnsNames: ['localhost'], ips: ['127.0.0.1'] };
  const [apiserver, apiserverKubeletClient, admin, controllerManager, controllerManagerServing, scheduler, schedulerServing, kubelet, kubeletServing, serviceAccount, frontProxyClient] = await Promise.all([
    issueLeaf(ca, dir, {
      name: 'kube-apiserver',
      commonName: 'kube-apiserver',
      usages: ['server'],
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', options.nodeName],
      ips: ['127.0.0.1', options.serviceIp],
    }),
    issueLeaf(ca, dir, { name: 'kube-apiserver-kubelet-client', commonName: 'kube-apiserver-kubelet-client', organizations: [mastersGroup], usages: ['client'] }),
    issueLeaf(ca, dir, { name: 'admin', commonName: adminUser, organizations: [mastersGroup], usages: ['client'] }),
    issueLeaf(ca, dir, { name: 'kube-controller-manager', commonName: 'system:kube-controller-manager', usages: ['client'] }),
    issueLeaf(ca, dir, { name: 'kube-controller-manager-serving', commonName: 'kube-controller-manager', usages: ['server'], ...local }),
    issueLeaf(ca, dir, { name: 'kube-scheduler', commonName: 'system:kube-scheduler', usages: ['client'] }),
    issueLeaf(ca, dir, { name: 'kube-scheduler-serving', commonName: 'kube-scheduler', usages: ['server'], ...local }),
    issueLeaf(ca, dir, { name: 'kubelet', commonName: `system:node:${options.nodeName}`, organizations: ['system:nodes'], usages: ['client'] }),
    issueLeaf(ca, dir, {
      name: 'kubelet-serving',
      commonName: `system:node:${options.nodeName}`,
      organizations: ['system:nodes'],
      usages: ['server'],
      dnsNames: ['localhost', options.nodeName],
      ips: ['127.0.0.1', ...(options.nodeIps ?? [])],
    }),
    createKeyPair(dir, 'service-account'),
    issueLeaf(frontProxyCa, dir, { name: 'front-proxy-client', commonName: frontProxyClientName, usages: ['client'] }),
  ]);
  return { dir, ca, apiserver, apiserverKubeletClient, admin, controllerManager, controllerManagerServing, scheduler, schedulerServing, kubelet, kubeletServing, serviceAccount, frontProxyCa, frontProxyClient };
}

/** A client certificate for an arbitrary identity (a test's unprivileged user, say). */
export async function issueClientCert(pki: Pick<ClusterPki, 'ca' | 'dir'>, name: string, user: string, groups: readonly string[] = []): Promise<KeyPair> {
  return issueLeaf(pki.ca, pki.dir, { name, commonName: user, organizations: groups, usages: ['client'] });
}
