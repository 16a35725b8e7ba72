/**
 * The pod network: one CNI conflist for containerd's CRI plugin. Each pod gets a veth pair
 * (`ptp`: a point-to-point link and a host route to the pod, no bridge) and an address from
 * `host-local` IPAM, whose leases live in the node's own dir so stopping the node releases
 * them. No iptables anywhere (`ipMasq: false`): pods reach the host through their gateway
 * address, nothing outside the machine. A pod's `lo` is brought up by containerd itself with
 * the `loopback` plugin from the same bin dir (go-cni's loopback network), so it is not
 * repeated here.
 */
import type { NodePaths } from './paths.js';

export const cniNetworkName = 'sscsi-ptp';
export const cniConfFile = '10-sscsi-ptp.conflist';

export function cniConflist(paths: NodePaths, podCidr: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: cniNetworkName,
      plugins: [
        {
          type: 'ptp',
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: paths.cni.ipamDir },
        },
      ],
    },
    null,
    2,
  );
}
