/**
 * The kubelet's KubeletConfiguration (kubelet.config.k8s.io/v1beta1) for this machine, and
 * its command line. Each setting that differs from the kubelet's default says why:
 * - `cgroupDriver: cgroupfs`: cgroup v1 hierarchies and no systemd (must match containerd's
 *   `SystemdCgroup = false`).
 * - `failSwapOn: false`; eviction thresholds and image GC relaxed: a shared VM, not a node
 *   with capacity to protect, and our imported images can never be pulled again.
 * - `oomScoreAdj: 0`: the default (-999) needs CAP_SYS_RESOURCE, which is not in this
 *   machine's bounding set (the kubelet only logs the failure; 0 keeps its log clean).
 * - the kubelet listens on 127.0.0.1 only (`address`, healthz; `readOnlyPort: 0`). Its node
 *   IP cannot be loopback (the kubelet refuses `--node-ip=127.0.0.1`: "nodeIP can't be
 *   loopback address", and then publishes no addresses at all), so the API server reaches it
 *   through the node's `Hostname` address (`--kubelet-preferred-address-types=Hostname,...`):
 *   the node name must resolve to 127.0.0.1, as this machine's hostname does in /etc/hosts.
 * - connected: x509 client certs (the cluster CA) and webhook authn/authz, as kubeadm
 *   sets them. Standalone (no API server): anonymous and AlwaysAllow, because the webhooks
 *   need an API server; it still listens on 127.0.0.1 only.
 * - pod logs under the node's dir (`podLogsDir`), so stopping the node removes them.
 */
import { stringify } from 'yaml';
import type { NodePaths } from './paths.js';

export interface KubeletApiServer {
  /** The kubelet's kubeconfig: the API server URL and the node's client certificate. */
  kubeconfig: string;
  /** The CA that signs API server client certificates (x509 authentication of callers). */
  clientCaFile: string;
  /** A serving certificate; without one the kubelet makes a self-signed one. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
}

export interface KubeletSettings {
  nodeName: string;
  /** The node's InternalIP; default the kubelet's choice (the default route's address). Never loopback: the kubelet rejects it. */
  nodeIp?: string;
  port: number;
  healthzPort: number;
  apiServer?: KubeletApiServer;
}

export function kubeletConfiguration(paths: NodePaths, k: KubeletSettings): Record<string, unknown> {
  const connected = k.apiServer !== undefined;
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port: k.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: k.healthzPort,
    containerRuntimeEndpoint: `unix://${paths.containerd.socket}`,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    failSwapOn: false,
    oomScoreAdj: 0,
    staticPodPath: paths.kubelet.staticPods,
    podLogsDir: paths.kubelet.podLogs,
    serializeImagePulls: false,
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    makeIPTablesUtilChains: false,
    clusterDomain: 'cluster.local',
    ...(connected
      ? {
          authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: k.apiServer!.clientCaFile } },
          authorization: { mode: 'Webhook' },
          ...(k.apiServer!.tlsCertFile ? { tlsCertFile: k.apiServer!.tlsCertFile, tlsPrivateKeyFile: k.apiServer!.tlsPrivateKeyFile } : {}),
        }
      : { authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }, authorization: { mode: 'AlwaysAllow' } }),
  };
}

export function kubeletConfigYaml(paths: NodePaths, k: KubeletSettings): string {
  return `# Written by secrets-store-csi-ts (cluster/k8s/node/kubelet-config.ts); rewritten on every start.\n${stringify(kubeletConfiguration(paths, k))}`;
}

/** The kubelet's flags: what KubeletConfiguration cannot say. */
export function kubeletArgs(paths: NodePaths, k: KubeletSettings): string[] {
  return [
    `--config=${paths.kubelet.config}`,
    `--root-dir=${paths.kubelet.rootDir}`,
    `--hostname-override=${k.nodeName}`,
    ...(k.nodeIp ? [`--node-ip=${k.nodeIp}`] : []),
    '--v=2',
    ...(k.apiServer ? [`--kubeconfig=${k.apiServer.kubeconfig}`] : []),
  ];
}
