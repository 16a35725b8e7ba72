/**
 * The control plane in start order: certificates and keys → etcd → kube-apiserver →
 * kube-controller-manager → kube-scheduler, each a child process with its log under
 * `<state>/logs`, each waited on until it reports ready. Progress goes to `log`, one line per
 * step with how long it took. A failure (or an abort) stops what already runs and throws the
 * failing component's error. `stop()` stops them in reverse order.
 *
 * State dir layout:
 *   pki/                 CA, certificates, keys (service-account signing key too)
 *   etcd/                etcd's data
 *   logs/<component>.log every component's output
 *   kubeconfig           the admin identity (system:masters)
 *   kubeconfigs/<identity>.kubeconfig  controller-manager, scheduler, kubelet
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { adminUser, createClusterPki, type ClusterPki } from './certificates.js';
import type { RunningComponent } from './component.js';
import { startEtcd } from './etcd.js';
import { startApiServer } from './kube-apiserver.js';
import { startControllerManager } from './kube-controller-manager.js';
import { startScheduler } from './kube-scheduler.js';
import { writeKubeconfig } from './kubeconfig.js';

export interface ControlPlaneOptions {
  stateDir: string;
  /** The node the kubelet will register as: its client certificate is system:node:<nodeName>. */
  nodeName: string;
  /** Default 10.0.0.0/24; the API server's Service gets the first address. */
  serviceCidr?: string;
  /** Extra SANs for the kubelet's serving certificate. */
  nodeIps?: readonly string[];
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ControlPlaneKubeconfigs {
  admin: string;
  controllerManager: string;
  scheduler: string;
  kubelet: string;
}

export interface ControlPlane {
  readonly stateDir: string;
  readonly nodeName: string;
  readonly pki: ClusterPki;
  readonly apiServerUrl: string;
  readonly serviceCidr: string;
  readonly kubeconfigs: ControlPlaneKubeconfigs;
  /** Running components in start order. */
  readonly components: readonly RunningComponent[];
  /** Stops every component, last started first. */
  stop(): Promise<void>;
}

export const defaultServiceCidr = '10.0.0.0/24';

/** The first usable address of an IPv4 CIDR: the `kubernetes` Service's cluster IP. */
export function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const octets = base!.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`service CIDR ${cidr} is not an IPv4 CIDR`);
  octets[3] = octets[3]! + 1;
  return octets.join('.');
}

export function logPath(stateDir: string, component: string): string {
  return join(stateDir, 'logs', `${component}.log`);
}

async function timed<T>(log: (line: string) => void, what: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log(`• ${what}...`);
  const result = await step();
  log(`  ${what}: ready in ${Math.round(performance.now() - started)} ms`);
  return result;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  const { stateDir, nodeName, signal } = options;
  const serviceCidr = options.serviceCidr ?? defaultServiceCidr;
  const binaries = {
    etcd: requireBinary('etcd'),
    apiserver: requireBinary('kube-apiserver'),
    controllerManager: requireBinary('kube-controller-manager'),
    scheduler: requireBinary('kube-scheduler'),
  };
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  await mkdir(join(stateDir, 'kubeconfigs'), { recursive: true, mode: 0o700 });
  const pki = await timed(log, 'certificates and the service-account key (openssl)', () =>
    createClusterPki(join(stateDir, 'pki'), { nodeName, serviceIp: firstServiceIp(serviceCidr), ...(options.nodeIps ? { nodeIps: options.nodeIps } : {}) }),
  );
  const components: RunningComponent[] = [];
  const stop = async () => {
    for (const c of [...components].reverse()) await c.stop();
  };
  const signalOpt = signal ? { signal } : {};
  try {
    const etcd = await timed(log, 'etcd', () => startEtcd({ binary: binaries.etcd, stateDir, logFile: logPath(stateDir, 'etcd'), ...signalOpt }));
    components.push(etcd);
    const apiserver = await timed(log, 'kube-apiserver', () =>
      startApiServer({ binary: binaries.apiserver, pki, etcdUrl: etcd.clientUrl, serviceCidr, logFile: logPath(stateDir, 'kube-apiserver'), ...signalOpt }),
    );
    components.push(apiserver);
    const server = apiserver.url;
    const kubeconfigs: ControlPlaneKubeconfigs = {
      admin: await writeKubeconfig(join(stateDir, 'kubeconfig'), { server, caCert: pki.ca.cert, client: pki.admin, user: adminUser }),
      controllerManager: await writeKubeconfig(join(stateDir, 'kubeconfigs', 'kube-controller-manager.kubeconfig'), { server, caCert: pki.ca.cert, client: pki.controllerManager, user: 'system:kube-controller-manager' }),
      scheduler: await writeKubeconfig(join(stateDir, 'kubeconfigs', 'kube-scheduler.kubeconfig'), { server, caCert: pki.ca.cert, client: pki.scheduler, user: 'system:kube-scheduler' }),
      kubelet: await writeKubeconfig(join(stateDir, 'kubeconfigs', 'kubelet.kubeconfig'), { server, caCert: pki.ca.cert, client: pki.kubelet, user: `system:node:${nodeName}` }),
    };
    components.push(
      await timed(log, 'kube-controller-manager', () =>
        startControllerManager({ binary: binaries.controllerManager, pki, kubeconfig: kubeconfigs.controllerManager, serviceCidr, logFile: logPath(stateDir, 'kube-controller-manager'), ...signalOpt }),
      ),
    );
    components.push(
      await timed(log, 'kube-scheduler', () => startScheduler({ binary: binaries.scheduler, pki, kubeconfig: kubeconfigs.scheduler, logFile: logPath(stateDir, 'kube-scheduler'), ...signalOpt })),
    );
    return { stateDir, nodeName, pki, apiServerUrl: server, serviceCidr, kubeconfigs, components, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
