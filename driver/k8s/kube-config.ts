/**
 * Where the driver's Kubernetes API is and how to reach it: `--kubeconfig`, else the
 * in-cluster service account (KUBERNETES_SERVICE_HOST/PORT, its token file and CA bundle),
 * else $KUBECONFIG or ~/.kube/config. What a kubeconfig may say is what client-go accepts
 * for a node agent: a token or a token file (re-read as it rotates), a client certificate
 * and key (data or file), basic auth, a CA (data or file), insecure-skip-tls-verify,
 * tls-server-name, and http:// or https:// servers. Anything else that changes how to
 * connect or authenticate (exec plugins, auth providers, impersonation, proxies) stops the
 * start with an error naming the field, instead of requests failing later with a 401.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/**
 * The YAML parser, loaded only when there is a kubeconfig to read: a driver in a pod (the
 * in-cluster config) never pays for it (about 1 MiB of RSS at idle).
 */
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

export interface KubeConfig {
  /** The API server, e.g. https://10.96.0.1:443 (no trailing slash). */
  server: string;
  /** TLS settings for an https:// server. */
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
  /** A fixed bearer token, a token file re-read as the kubelet rotates it, or basic auth. */
  auth: { token?: string; tokenFile?: string; basic?: { username: string; password: string } };
  /** Where this came from, for messages: the kubeconfig path or 'in-cluster'. */
  source: string;
}

/** The service account directory the kubelet projects into every pod. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Loads --kubeconfig, else the in-cluster config, else $KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  if (path) return fromKubeconfigFile(path, '--kubeconfig');
  if (env.KUBERNETES_SERVICE_HOST) return inClusterConfig(env);
  const fromEnv = env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (fromEnv) return fromKubeconfigFile(fromEnv, '$KUBECONFIG');
  const home = join(homedir(), '.kube', 'config');
  try {
    return fromKubeconfigFile(home, '~/.kube/config');
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
    throw new Error('no Kubernetes API configured: pass --kubeconfig, set $KUBECONFIG, or run the driver in a pod', { cause: err });
  }
}

/** The in-cluster config: the service's address from the environment, the mounted account. */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = serviceAccountDir): KubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('in-cluster config needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT: pass --kubeconfig outside a pod');
  const tokenFile = join(dir, 'token');
  let ca: Buffer;
  try {
    readFileSync(tokenFile);
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch (err) {
    throw new Error(`in-cluster config: cannot read the service account at ${dir}: ${(err as Error).message}; is automountServiceAccountToken off?`, { cause: err });
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca, rejectUnauthorized: true },
    auth: { tokenFile },
    source: 'in-cluster',
  };
}

type Entry = Record<string, unknown>;

/** The named entry of a kubeconfig list (`clusters`, `users`, `contexts`), its inner object. */
function named(doc: Entry, list: string, inner: string, name: string, where: string): Entry {
  const items = Array.isArray(doc[list]) ? (doc[list] as Entry[]) : [];
  const hit = items.find((i) => i?.name === name);
  if (!hit) throw new Error(`${where}: no ${list.slice(0, -1)} named ${JSON.stringify(name)}`);
  return (hit[inner] ?? {}) as Entry;
}

/** Fields that change how to connect or authenticate, and that this client does not do. */
const unsupportedUser = ['exec', 'auth-provider', 'as', 'as-uid', 'as-groups', 'as-user-extra'];
const unsupportedCluster = ['proxy-url'];

/** Parses a kubeconfig file (relative file paths resolve against its directory, as client-go). */
export function fromKubeconfigFile(path: string, flag: string): KubeConfig {
  const where = `${flag} ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`failed to load ${where}: ${(err as Error).message}`, { cause: err });
  }
  let doc: Entry;
  try {
    doc = (parseYaml(text) ?? {}) as Entry;
  } catch (err) {
    throw new Error(`failed to load ${where}: not YAML: ${(err as Error).message}`, { cause: err });
  }
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') throw new Error(`${where}: no current-context`);
  const context = named(doc, 'contexts', 'context', current, where);
  const cluster = named(doc, 'clusters', 'cluster', String(context.cluster ?? ''), where);
  const user = context.user === undefined ? {} : named(doc, 'users', 'user', String(context.user), where);
  for (const f of unsupportedUser) if (user[f] !== undefined) throw new Error(`${where}: user field ${JSON.stringify(f)} is not supported by the driver: give it a token, tokenFile or client certificate`);
  for (const f of unsupportedCluster) if (cluster[f] !== undefined) throw new Error(`${where}: cluster field ${JSON.stringify(f)} is not supported by the driver`);
  const server = typeof cluster.server === 'string' ? cluster.server.replace(/\/+$/, '') : '';
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`${where}: cluster server ${JSON.stringify(cluster.server)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${where}: cluster server ${server} must be http:// or https://`);
  const file = (p: unknown) => (isAbsolute(String(p)) ? String(p) : join(dirname(path), String(p)));
  const bytes = (data: string, fileField: string, entry: Entry): Buffer | undefined => {
    if (typeof entry[data] === 'string') return Buffer.from(entry[data], 'base64');
    if (entry[fileField] === undefined) return undefined;
    try {
      return readFileSync(file(entry[fileField]));
    } catch (err) {
      throw new Error(`${where}: ${fileField} ${String(entry[fileField])}: ${(err as Error).message}`, { cause: err });
    }
  };
  const cert = bytes('client-certificate-data', 'client-certificate', user);
  const key = bytes('client-key-data', 'client-key', user);
  if ((cert === undefined) !== (key === undefined)) throw new Error(`${where}: a client certificate needs both a certificate and a key`);
  const ca = bytes('certificate-authority-data', 'certificate-authority', cluster);
  const tokenFile = typeof user.tokenFile === 'string' && user.tokenFile !== '' ? file(user.tokenFile) : undefined;
  if (tokenFile) {
    try {
      readFileSync(tokenFile);
    } catch (err) {
      throw new Error(`${where}: tokenFile ${tokenFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    server: url.origin + url.pathname.replace(/\/+$/, ''),
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] } : {}),
    },
    auth: {
      ...(tokenFile ? { tokenFile } : typeof user.token === 'string' && user.token !== '' ? { token: user.token } : {}),
      ...(typeof user.username === 'string' && typeof user.password === 'string' ? { basic: { username: user.username, password: user.password } } : {}),
    },
    source: path,
  };
}
