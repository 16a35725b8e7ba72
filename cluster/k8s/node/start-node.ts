/**
 * One Kubernetes node on this machine: containerd (ours alone) and the kubelet, with the
 * images pods need imported. Connected to an API server (`apiServer`: the kubelet's
 * kubeconfig and the cluster CA), it is ready when its Node object is Ready; without one
 * the kubelet runs standalone (static pods only) and is ready when its healthz answers.
 * A start that fails stops everything it began (stop-node.ts) before it throws.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startContainerd } from './containerd.js';
import { startDaemon } from './daemon.js';
import { dockerImagesForNode, importNodeImages, type ImportReport } from './import-images.js';
import { kubeletArgs, kubeletConfigYaml, type KubeletApiServer, type KubeletSettings } from './kubelet-config.js';
import { pauseImage } from './node-images.js';
import { waitForKubeletHealthy, waitForNodeReady } from './node-ready.js';
import { writeNodeRecord } from './node-record.js';
import { defaultKubeletRootDir, nodePaths, type NodePaths } from './paths.js';
import { acquireNodeLock } from './node-lock.js';
import { kubeletRootMarker, stopNode, type StopReport } from './stop-node.js';
import { executable, missingPrerequisites } from './prerequisites.js';
import { mirroredRegistries, pushToMirror, registryBinary, startRegistry, writeMirrorHosts } from './registry-mirror.js';

export interface NodeOptions {
  /** The cluster's state dir; the node keeps everything in `<stateDir>/node`. */
  stateDir: string;
  /** The kubelet binary (`.peers/bin/kubelet`). */
  kubeletBin: string;
  /** Default: this machine's hostname, lower-cased. */
  nodeName?: string;
  /** The node's InternalIP (not loopback); default the kubelet's choice. */
  nodeIp?: string;
  /** Absent: the kubelet runs standalone (static pods from `staticPods`). */
  apiServer?: KubeletApiServer;
  /** Default /var/lib/kubelet, the path the driver DaemonSet's hostPaths name. */
  kubeletRootDir?: string;
  /** host-local's range for pod addresses. Default 10.244.0.0/24. */
  podCidr?: string;
  kubeletPort?: number;
  kubeletHealthzPort?: number;
  /** Docker engine images imported too, when the engine has them. Default dockerImagesForNode. */
  dockerImages?: readonly string[];
  /** Static pod manifests (file name → YAML) written before the kubelet starts. */
  staticPods?: Record<string, string>;
  /**
   * Run a local registry as containerd's mirror of docker.io and registry.k8s.io holding the
   * imported images (registry-mirror.ts), so the default pull policy works. Default: true
   * where Debian's docker-registry is installed.
   */
  registryMirror?: boolean;
  /** How long to wait for another node on this machine to stop (node-lock.ts). Default 10 minutes. */
  lockWaitMs?: number;
  /** Progress lines ("• containerd ..."). */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface RunningNode {
  nodeName: string;
  paths: NodePaths;
  containerdSocket: string;
  kubeletPort: number;
  kubeletHealthzPort: number;
  images: ImportReport;
  /** The local registry's port when it runs as the mirror. */
  registryPort?: number;
  logs: { containerd: string; kubelet: string };
  stop(): Promise<StopReport>;
}

export class NodePrerequisiteError extends Error {
  constructor(readonly missing: string[]) {
    super(`the k8s node cannot start here: ${missing.join('; ')}`);
    this.name = 'NodePrerequisiteError';
  }
}

async function ensureKubeletRootDir(rootDir: string, stateDir: string): Promise<boolean> {
  const existed = await stat(rootDir).then(
    () => true,
    () => false,
  );
  if (existed) {
    const marker = await readFile(join(rootDir, kubeletRootMarker), 'utf8').catch(() => undefined);
    return marker?.trim() === stateDir;
  }
  await mkdir(rootDir, { recursive: true });
  await writeFile(join(rootDir, kubeletRootMarker), `${stateDir}\n`);
  return true;
}

export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const log = o.log ?? (() => undefined);
  const missing = await missingPrerequisites(o.kubeletBin);
  if (missing.length > 0) throw new NodePrerequisiteError(missing);
  const kubeletRootDir = o.kubeletRootDir ?? defaultKubeletRootDir;
  const paths = nodePaths(o.stateDir, kubeletRootDir);
  await acquireNodeLock(o.stateDir, o.lockWaitMs ?? 600_000, log);
  // Whatever an earlier run of this state dir left goes first.
  await stopNode(o.stateDir, { kubeletRootDir, keepLock: true });
  const nodeName = o.nodeName ?? hostname().toLowerCase();
  const settings: KubeletSettings = {
    nodeName,
    ...(o.nodeIp ? { nodeIp: o.nodeIp } : {}),
    port: o.kubeletPort ?? 10250,
    healthzPort: o.kubeletHealthzPort ?? 10248,
    ...(o.apiServer ? { apiServer: o.apiServer } : {}),
  };
  const timeoutMs = o.readyTimeoutMs ?? 120_000;
  const resolved = await lookup(nodeName).catch(() => undefined);
  if (o.apiServer && !resolved?.address.startsWith('127.')) {
    log(`  warning: node name ${nodeName} resolves to ${resolved?.address ?? 'nothing'}, not 127.0.0.1 where the kubelet listens: the API server will not reach it (kubectl logs/exec)`);
  }
  try {
    for (const d of [paths.dir, paths.kubelet.staticPods, paths.kubelet.podLogs, join(paths.kubelet.config, '..')]) await mkdir(d, { recursive: true });
    const ownsKubeletRootDir = await ensureKubeletRootDir(kubeletRootDir, o.stateDir);
    await writeNodeRecord(paths.record, { nodeName, kubeletRootDir, ownsKubeletRootDir, startedAt: new Date().toISOString() });

    log(`• containerd (socket ${paths.containerd.socket}, log ${paths.logs.containerd})`);
    const containerd = await startContainerd(paths, { sandboxImage: pauseImage, podCidr: o.podCidr ?? '10.244.0.0/24', registryHosts: true, timeoutMs: 30_000 });
    await writeNodeRecord(paths.record, { nodeName, kubeletRootDir, ownsKubeletRootDir, containerdPid: containerd.daemon.pid, startedAt: new Date().toISOString() });

    log('• images (pause, busybox, and our images from the Docker engine)');
    const images = await importNodeImages(containerd.ctr, paths.images, o.dockerImages ?? dockerImagesForNode);
    for (const s of images.skipped) log(`  ${s.image} not imported: ${s.reason}`);
    let registryPort: number | undefined;
    if (o.registryMirror ?? (await executable(registryBinary))) {
      const registry = await startRegistry(paths, 30_000);
      registryPort = registry.port;
      await writeMirrorHosts(paths, registry.port);
      const pushed = await pushToMirror(containerd.ctr, registry.port, await containerd.ctr.imageNames());
      log(`• registry mirror on 127.0.0.1:${registry.port} for ${mirroredRegistries.join(', ')} (${pushed.length} images)`);
    }

    for (const [file, yaml] of Object.entries(o.staticPods ?? {})) await writeFile(join(paths.kubelet.staticPods, file), yaml);
    await writeFile(paths.kubelet.config, kubeletConfigYaml(paths, settings));
    log(`• kubelet ${nodeName} (${o.apiServer ? 'connected' : 'standalone'}, log ${paths.logs.kubelet})`);
    const kubelet = startDaemon(o.kubeletBin, kubeletArgs(paths, settings), paths.logs.kubelet);
    await writeNodeRecord(paths.record, { nodeName, kubeletRootDir, ownsKubeletRootDir, containerdPid: containerd.daemon.pid, kubeletPid: kubelet.pid, startedAt: new Date().toISOString() });
    const wait = { kubelet, kubeletLog: paths.logs.kubelet, timeoutMs };
    if (o.apiServer) await waitForNodeReady(o.apiServer.kubeconfig, nodeName, wait);
    else await waitForKubeletHealthy(settings.healthzPort, wait);
    log(`• node ${nodeName} ready`);
    return {
      nodeName,
      paths,
      containerdSocket: paths.containerd.socket,
      kubeletPort: settings.port,
      kubeletHealthzPort: settings.healthzPort,
      images,
      ...(registryPort ? { registryPort } : {}),
      logs: paths.logs,
      stop: () => stopNode(o.stateDir, { kubeletRootDir }),
    };
  } catch (err) {
    await stopNode(o.stateDir, { kubeletRootDir }).catch(() => undefined);
    throw err;
  }
}
