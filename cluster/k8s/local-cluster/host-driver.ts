/**
 * `sscsi k8s up --driver-bin PATH`: that driver binary (ours, upstream's) as a process on the
 * host instead of the DaemonSet's driver container, with upstream's flags only, serving the
 * socket path the DaemonSet's registrar announces to the kubelet
 * (<kubelet root>/plugins/csi-secrets-store/csi.sock). It talks to the API server as the
 * driver's ServiceAccount (a TokenRequest token in a kubeconfig: RBAC applies as in the pod).
 * Ready when its socket answers Probe.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { driverFlags } from '../../../harness/driver-flags.js';
import { waitForDriverSocket } from '../../../harness/driver-ready.js';
import { freePort } from '../../../harness/free-port.js';
import { startCommand, type ManagedProcess } from '../../../harness/managed-process.js';
import { writeKubeconfig } from '../control-plane/kubeconfig.js';
import type { Kubectl } from '../install/kubectl.js';

export const driverServiceAccount = { namespace: 'kube-system', name: 'secrets-store-csi-driver' };

export interface HostDriverOptions {
  binary: string;
  args: readonly string[];
  kubeletRootDir: string;
  nodeName: string;
  stateDir: string;
  apiServerUrl: string;
  caCert: string;
  kubectl: Kubectl;
  signal?: AbortSignal;
}

export interface HostDriver {
  socket: string;
  metricsAddr: string;
  logFile: string;
  process: ManagedProcess;
}

export const driverSocket = (kubeletRootDir: string) => join(kubeletRootDir, 'plugins', 'csi-secrets-store', 'csi.sock');

export async function startHostDriver(o: HostDriverOptions): Promise<HostDriver> {
  const token = (await o.kubectl.ok(['-n', driverServiceAccount.namespace, 'create', 'token', driverServiceAccount.name, '--duration=24h'])).trim();
  const kubeconfig = await writeKubeconfig(join(o.stateDir, 'kubeconfigs', 'driver.kubeconfig'), { server: o.apiServerUrl, caCert: o.caCert, client: { token }, user: `system:serviceaccount:${driverServiceAccount.namespace}:${driverServiceAccount.name}` });
  const socket = driverSocket(o.kubeletRootDir);
  await mkdir(join(socket, '..'), { recursive: true });
  const metricsAddr = `127.0.0.1:${await freePort()}`;
  const logFile = join(o.stateDir, 'logs', 'driver.log');
  const flags = driverFlags({ socket, nodeId: o.nodeName, providerDir: '/var/run/secrets-store-csi-providers', additionalProviderDir: '/etc/kubernetes/secrets-store-csi-providers', metricsAddr, kubeconfig });
  const proc = startCommand(o.binary, [...flags, ...o.args], { logFile, keepChars: 64 * 1024 });
  const client = await waitForDriverSocket(socket, { waitMs: 60_000, proc, signal: o.signal });
  client.close();
  return { socket, metricsAddr, logFile, process: proc };
}
