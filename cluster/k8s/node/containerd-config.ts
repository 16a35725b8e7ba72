/**
 * containerd's config.toml for the node: a containerd of its own (root, state, sockets, runc
 * root and `opt` dir all under the node's directory, so the Docker engine's containerd on the
 * same machine is never touched) with the CRI plugin set up for this machine:
 * - `restrict_oom_score_adj = true`: without CAP_SYS_RESOURCE in the bounding set no process
 *   may lower an oom_score_adj, and the kubelet asks -998 for every pod's pause container and
 *   -997 for guaranteed pods; containerd then clamps each request to its own value instead of
 *   letting runc fail on it.
 * - runc with cgroupfs (`SystemdCgroup = false`): cgroup v1 hierarchies, no systemd.
 * - CNI from Debian's plugins (/usr/lib/cni) with our conf dir (cni-config.ts); network
 *   namespaces under the node's state dir, not /var/run/netns.
 * - the sandbox image is our pause image, which is imported, never pulled.
 * - with `certsDir`, registry host configs (registry-mirror.ts) send pulls to a local mirror.
 * Values are written as TOML basic strings (JSON's escaping is TOML's for these).
 */
import type { NodePaths } from './paths.js';

export interface ContainerdConfigOptions {
  sandboxImage: string;
  cniBinDir: string;
  /** Use the registry host configs under paths.containerd.certsDir. */
  registryHosts: boolean;
}

const s = (v: string): string => JSON.stringify(v);

export function containerdConfig(paths: NodePaths, o: ContainerdConfigOptions): string {
  const c = paths.containerd;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by secrets-store-csi-ts (cluster/k8s/node/containerd-config.ts); rewritten on every start.
version = 2
root = ${s(c.root)}
state = ${s(c.state)}
oom_score = 0

[grpc]
  address = ${s(c.socket)}

[ttrpc]
  address = ${s(`${c.socket}.ttrpc`)}

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = ${s(c.opt)}

  [${cri}]
    sandbox_image = ${s(o.sandboxImage)}
    restrict_oom_score_adj = true
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    disable_apparmor = true
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    netns_mounts_under_state_dir = true

    [${cri}.containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"

      [${cri}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [${cri}.containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = ${s(c.runcRoot)}

    [${cri}.cni]
      bin_dir = ${s(o.cniBinDir)}
      conf_dir = ${s(paths.cni.confDir)}
      max_conf_num = 1

    [${cri}.registry]
      config_path = ${s(o.registryHosts ? c.certsDir : '')}
`;
}
