/**
 * The k8s target on this machine, the way `hack/local-up-cluster.sh` runs Kubernetes: the
 * control plane (control-plane/), one node (node/: containerd and the kubelet), then the
 * driver installed from kind/manifests (install/) — or, with `driverBin`, the driver as a
 * host process beside the DaemonSet's registrar and liveness probe. Progress goes to `log`
 * step by step; a failing step throws an error naming the component, its log file and the
 * log's last lines, after stopping everything already started. `stop()` leaves no process,
 * mount, cgroup, container or CNI address (the node's stop checks and reports leftovers).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../harness/free-port.js';
import { standInImage } from '../../../kind/bootstrap/images.js';
import type { SimDescription } from '../../sim/sim-cluster.js';
import { requireBinary } from '../control-plane/binaries.js';
import { logTail, stopProcess } from '../control-plane/component.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { installDriver } from '../install/install.js';
import { kubectl as makeKubectl, type Kubectl } from '../install/kubectl.js';
import { driverMetricsPort, fakeProviderDaemonSet, k8sManifests, loadKindManifests, missingInstallImages } from '../install/manifests.js';
import { Ctr } from '../node/ctr.js';
import { makeDriverBinaryImage } from '../node/node-images.js';
import { defaultKubeletRootDir } from '../node/paths.js';
import { startNode, type RunningNode } from '../node/start-node.js';
import { stopNode, type StopReport } from '../node/stop-node.js';
import { driverSocket, startHostDriver, type HostDriver } from './host-driver.js';
import { removeUpRecord, writeUpRecord } from './up-record.js';

export interface LocalClusterOptions {
  stateDir: string;
  /** Run this driver binary on the host instead of the DaemonSet's driver container. */
  driverBin?: string;
  /** With `driverBin`: run it as the driver DaemonSet's container (an image made from it) rather than on the host. */
  driverInPod?: boolean;
  /** `-- DRIVER_FLAGS`: for the driver container, or the host driver. */
  driverArgs?: readonly string[];
  /** Maps a manifest's image to one the node has; default standInImage (ours for upstream's sidecars). */
  image?: (image: string) => string;
  nodeName?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface LocalCluster {
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly nodeName: string;
  readonly controlPlane: ControlPlane;
  readonly node: RunningNode;
  readonly kubectl: Kubectl;
  readonly hostDriver?: HostDriver;
  /** Milliseconds: control plane ready, node Ready, driver installed (from the start). */
  readonly timings: { controlPlaneMs: number; nodeMs: number; totalMs: number };
  /** What `sscsi k8s up` writes to sim.json: the shape `sscsi sim up` writes. */
  describe(): SimDescription;
  stop(): Promise<StopReport>;
}

export const providersDir = '/etc/kubernetes/secrets-store-csi-providers';
const fakeProviderControlPort = 8080;

function interrupted(signal: AbortSignal | undefined, step: string): void {
  if (signal?.aborted) throw new Error(`interrupted before ${step}`);
}

/** The fake provider pod's IP on the node (ptp: the host routes to it directly). */
async function fakeProviderPodIp(k: Kubectl, nodeName: string): Promise<string> {
  const pods = await k.json<{ items: Array<{ spec: { nodeName?: string }; status: { podIP?: string } }> }>(['-n', 'kube-system', 'get', 'pods', '-l', `app=${fakeProviderDaemonSet}`, '--field-selector', `spec.nodeName=${nodeName}`]);
  const ip = pods.items.find((p) => p.status.podIP)?.status.podIP;
  if (!ip) throw new Error(`the fake-provider pod on ${nodeName} has no IP`);
  return ip;
}

export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const log = o.log ?? (() => {});
  const { stateDir, signal } = o;
  const nodeName = o.nodeName ?? hostname().toLowerCase();
  const kubeletRootDir = defaultKubeletRootDir;
  const started = performance.now();
  const kubectlBin = requireBinary('kubectl');
  const kubeletBin = requireBinary('kubelet');
  await removeUpRecord(stateDir);

  const controlPlane = await startControlPlane({ stateDir, nodeName, log, ...(signal ? { signal } : {}) });
  const controlPlaneMs = Math.round(performance.now() - started);
  const record = { pid: process.pid, stateDir, processes: controlPlane.components.map((c) => ({ name: c.name, pid: c.pid, marker: c.binary })) };
  await writeUpRecord(record);
  let node: RunningNode | undefined;
  let hostDriver: HostDriver | undefined;
  const stop = async (): Promise<StopReport> => {
    if (hostDriver) await stopProcess(hostDriver.process);
    const report = node ? await node.stop() : await stopNode(stateDir, { kubeletRootDir });
    await controlPlane.stop();
    await removeUpRecord(stateDir);
    return report;
  };
  try {
    interrupted(signal, 'the node');
    node = await startNode({
      stateDir,
      kubeletBin,
      nodeName,
      kubeletRootDir,
      // Free ports rather than 10250/10248: a kubelet another test runs elsewhere keeps them.
      kubeletPort: await freePort(),
      kubeletHealthzPort: await freePort(),
      apiServer: { kubeconfig: controlPlane.kubeconfigs.kubelet, clientCaFile: controlPlane.pki.ca.cert, tlsCertFile: controlPlane.pki.kubeletServing.cert, tlsPrivateKeyFile: controlPlane.pki.kubeletServing.key },
      log,
    });
    const nodeMs = Math.round(performance.now() - started);
    const kubectl = makeKubectl(kubectlBin, controlPlane.kubeconfigs.admin, signal);
    const api = new URL(controlPlane.apiServerUrl);
    const hostDriverBin = o.driverInPod ? undefined : o.driverBin;
    let driverImage: string | undefined;
    if (o.driverBin && o.driverInPod) {
      const made = await makeDriverBinaryImage(node.paths.images, o.driverBin);
      await new Ctr(node.containerdSocket).importImage(made.tar);
      driverImage = made.name;
      log(`• driver image ${made.name} from ${o.driverBin} (the binary, its libraries, busybox's mount and umount)`);
    }
    const manifests = k8sManifests(await loadKindManifests(), {
      apiServer: { host: api.hostname, port: Number(api.port) },
      image: o.image ?? standInImage,
      driverOnHost: hostDriverBin !== undefined,
      ...(driverImage ? { driverImage } : {}),
      ...(o.driverArgs && !hostDriverBin ? { driverArgs: o.driverArgs } : {}),
    });
    const missingImages = missingInstallImages(manifests, node.images.skipped);
    if (missingImages.length > 0) {
      throw new Error(`the node lacks images the install needs, and nothing can be pulled here:\n  ${missingImages.join('\n  ')}\nstart the Docker engine and build them (npm run build && npm run sscsi -- image build), then k8s up again`);
    }
    interrupted(signal, 'the driver install');
    const install = installDriver({ kubectl, manifests, kubeletLog: node.logs.kubelet, log });
    // Awaited below; a host driver failing first must not leave its rejection unhandled.
    install.catch(() => undefined);
    if (hostDriverBin) {
      // The DaemonSet's registrar announces the socket; the host driver must serve it for
      // the liveness probe to pass, so both go on at once. Its RBAC comes with the manifests.
      await kubectl.ok(['wait', '--for=create', '--timeout=120s', '-n', 'kube-system', 'serviceaccount/secrets-store-csi-driver']);
      log(`• driver on the host: ${o.driverBin} (log ${join(stateDir, 'logs', 'driver.log')})`);
      hostDriver = await startHostDriver({
        binary: hostDriverBin,
        args: o.driverArgs ?? [],
        kubeletRootDir,
        nodeName,
        stateDir,
        apiServerUrl: controlPlane.apiServerUrl,
        caCert: controlPlane.pki.ca.cert,
        kubectl,
        ...(signal ? { signal } : {}),
      }).catch(async (err: unknown) => {
        throw new Error(`the host driver ${hostDriverBin} did not get ready: ${(err as Error).message}; log ${join(stateDir, 'logs', 'driver.log')}, last lines:\n${await logTail(join(stateDir, 'logs', 'driver.log'))}`);
      });
      record.processes.push({ name: 'driver', pid: hostDriver.process.child.pid!, marker: hostDriverBin });
      await writeUpRecord(record);
    }
    await install;
    const providerIp = await fakeProviderPodIp(kubectl, nodeName);
    const endpoint = `unix://${driverSocket(kubeletRootDir)}`;
    const metrics = `http://${hostDriver ? hostDriver.metricsAddr : `127.0.0.1:${driverMetricsPort}`}/metrics`;
    const totalMs = Math.round(performance.now() - started);
    const describe = (): SimDescription => ({
      kubeconfig: controlPlane.kubeconfigs.admin,
      driver: { endpoint, metrics, node: nodeName, nodes: [{ node: nodeName, endpoint, metrics }], ...(o.driverBin ? { bin: o.driverBin } : {}) },
      providers: [{ name: 'fake', socket: join(providersDir, 'fake.sock'), control: `http://${providerIp}:${fakeProviderControlPort}`, node: nodeName }],
    });
    return { stateDir, kubeconfig: controlPlane.kubeconfigs.admin, nodeName, controlPlane, node, kubectl, ...(hostDriver ? { hostDriver } : {}), timings: { controlPlaneMs, nodeMs, totalMs }, describe, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
