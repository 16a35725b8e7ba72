/**
 * A kubeconfig for one identity: the cluster's CA and server, the client certificate and key
 * embedded (base64, like kubeadm writes them), so the file stands alone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { KeyPair } from './openssl.js';

export interface KubeconfigSpec {
  server: string;
  caCert: string;
  /** Client certificate and key files; or `token` for a bearer token (a ServiceAccount's). */
  client: KeyPair | { token: string };
  user: string;
  cluster?: string;
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  const b64 = async (file: string) => (await readFile(file)).toString('base64');
  const cluster = spec.cluster ?? 'sscsi-k8s';
  const user =
    'token' in spec.client
      ? { token: spec.client.token }
      : { 'client-certificate-data': await b64(spec.client.cert), 'client-key-data': await b64(spec.client.key) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: spec.server, 'certificate-authority-data': await b64(spec.caCert) } }],
    users: [{ name: spec.user, user }],
    contexts: [{ name: `${spec.user}@${cluster}`, context: { cluster, user: spec.user } }],
    'current-context': `${spec.user}@${cluster}`,
    preferences: {},
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
  return path;
}
