/**
 * A real Kubernetes API to compare the sim with, and nothing more: etcd → kube-apiserver
 * (→ kube-controller-manager, optional) from `.peers/bin`, on random free 127.0.0.1 ports, all
 * under one state dir, with the admin kubeconfig. No scheduler, no kubelet, no containerd and
 * no node lock: it runs beside a `k8s up` on the same machine. Pods it is given stay Pending
 * (nothing schedules or runs them).
 *
 * It then holds what `sscsi sim up` starts with (sim/apiserver/bootstrap.ts): the CSIDriver,
 * both CRDs and the driver's ServiceAccount and RBAC from kind/manifests, created (not
 * applied: the sim's copies carry no last-applied annotation either), and it waits until the
 * CRDs are Established and, with the controller-manager, until `default` has its
 * ServiceAccount — so both sides start from the same objects.
 *
 * It reuses the k8s target's pieces (cluster/k8s/control-plane): the same certificates,
 * flags and readiness checks as `k8s up`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { bootstrapManifests, manifestsDir } from '../../sim/apiserver/bootstrap.js';
import { missingBinary, requireBinary } from '../k8s/control-plane/binaries.js';
import { adminUser, createClusterPki, type ClusterPki } from '../k8s/control-plane/certificates.js';
import type { RunningComponent } from '../k8s/control-plane/component.js';
import { defaultServiceCidr, firstServiceIp, logPath } from '../k8s/control-plane/control-plane.js';
import { startEtcd } from '../k8s/control-plane/etcd.js';
import { startApiServer } from '../k8s/control-plane/kube-apiserver.js';
import { startControllerManager } from '../k8s/control-plane/kube-controller-manager.js';
import { writeKubeconfig } from '../k8s/control-plane/kubeconfig.js';

export interface ApiControlPlaneOptions {
  stateDir: string;
  /** Run kube-controller-manager too (Deployments → ReplicaSets → Pods, namespace deletion, default ServiceAccounts). Default true. */
  controllerManager?: boolean;
  /** kubectl used for the bootstrap; default `.peers/bin/kubectl`. */
  kubectl?: string;
  log?: (line: string) => void;
}

export interface ApiControlPlane {
  readonly stateDir: string;
  readonly apiServerUrl: string;
  /** Admin identity: `kubernetes-admin` in `system:masters`, the same user and group as the sim's admin. */
  readonly kubeconfig: string;
  /** Its certificates: the CA and the admin's client certificate, for clients other than kubectl. */
  readonly pki: ClusterPki;
  readonly components: readonly RunningComponent[];
  /** Stops every component, last started first; safe to call twice. */
  stop(): Promise<void>;
}

/** What is missing to start it (a skip reason), or undefined. */
export function apiControlPlaneMissing(controllerManager = true): string | undefined {
  return missingBinary(['etcd', 'kube-apiserver', ...(controllerManager ? (['kube-controller-manager'] as const) : []), 'kubectl']);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`the real API server: timed out waiting for ${what} (${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startApiControlPlane(options: ApiControlPlaneOptions): Promise<ApiControlPlane> {
  const log = options.log ?? (() => {});
  const { stateDir } = options;
  const withControllers = options.controllerManager ?? true;
  const kubectlBin = options.kubectl ?? requireBinary('kubectl');
  const binaries = {
    etcd: requireBinary('etcd'),
    apiserver: requireBinary('kube-apiserver'),
    controllerManager: withControllers ? requireBinary('kube-controller-manager') : undefined,
  };
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  await mkdir(join(stateDir, 'kubeconfigs'), { recursive: true, mode: 0o700 });
  const serviceCidr = defaultServiceCidr;
  const started = performance.now();
  const pki = await createClusterPki(join(stateDir, 'pki'), { nodeName: 'no-node', serviceIp: firstServiceIp(serviceCidr) });
  const components: RunningComponent[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of [...components].reverse()) await c.stop();
  };
  try {
    const etcd = await startEtcd({ binary: binaries.etcd, stateDir, logFile: logPath(stateDir, 'etcd') });
    components.push(etcd);
    const apiserver = await startApiServer({ binary: binaries.apiserver, pki, etcdUrl: etcd.clientUrl, serviceCidr, logFile: logPath(stateDir, 'kube-apiserver') });
    components.push(apiserver);
    const server = apiserver.url;
    const kubeconfig = await writeKubeconfig(join(stateDir, 'kubeconfig'), { server, caCert: pki.ca.cert, client: pki.admin, user: adminUser });
    if (binaries.controllerManager) {
      const cmKubeconfig = await writeKubeconfig(join(stateDir, 'kubeconfigs', 'kube-controller-manager.kubeconfig'), {
        server,
        caCert: pki.ca.cert,
        client: pki.controllerManager,
        user: 'system:kube-controller-manager',
      });
      components.push(await startControllerManager({ binary: binaries.controllerManager, pki, kubeconfig: cmKubeconfig, serviceCidr, logFile: logPath(stateDir, 'kube-controller-manager') }));
    }
    const kubectl = (...args: string[]) => execa(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', join(stateDir, 'kubectl-cache'), ...args], { reject: false, stdin: 'ignore' });
    const created = await kubectl('create', ...bootstrapManifests.flatMap((f) => ['-f', join(manifestsDir(), f)]));
    if (created.exitCode !== 0) throw new Error(`the real API server: creating the sim's bootstrap objects failed: ${created.stderr}`);
    await until('the CRDs to be Established', async () => (await kubectl('wait', '--for=condition=Established', '--timeout=20s', 'crd', '--all')).exitCode === 0, 30_000);
    if (withControllers) await until('the default ServiceAccount in default', async () => (await kubectl('get', 'serviceaccount', 'default', '-n', 'default')).exitCode === 0, 60_000);
    log(`real API server ${server} ready in ${Math.round(performance.now() - started)} ms (${components.map((c) => c.name).join(', ')})`);
    return { stateDir, apiServerUrl: server, kubeconfig, pki, components, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
