/**
 * A kubelet's-eye CSI client (tests, demo, benchmarks, simulated kubelet): the Identity, Node and Controller services on a
 * unix socket, each RPC as a promise that rejects with the grpc ServiceError.
 */
import * as grpc from '@grpc/grpc-js';
import { loadCsiProto } from '../proto/load.js';
import { podVolumeContext } from './provider-request.js';
import type { NodePublishVolumeRequest } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import type { GetPluginInfoResponse__Output } from '../proto/gen/csi/v1/GetPluginInfoResponse.js';
import type { GetPluginCapabilitiesResponse__Output } from '../proto/gen/csi/v1/GetPluginCapabilitiesResponse.js';
import type { ProbeResponse__Output } from '../proto/gen/csi/v1/ProbeResponse.js';
import type { NodeGetInfoResponse__Output } from '../proto/gen/csi/v1/NodeGetInfoResponse.js';
import type { NodeGetCapabilitiesResponse__Output } from '../proto/gen/csi/v1/NodeGetCapabilitiesResponse.js';
import type { ControllerGetCapabilitiesResponse__Output } from '../proto/gen/csi/v1/ControllerGetCapabilitiesResponse.js';

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type Method<Req, Res> = (req: Req, options: grpc.CallOptions, cb: Callback<Res>) => grpc.ClientUnaryCall;

/** One RPC as a promise; `Res` names the decoded reply type (overloads defeat inference). */
function promisify<Res, Req = object>(client: grpc.Client, method: Method<Req, Res>, timeoutMs: number) {
  return (req: Req, options: { deadlineMs?: number } = {}): Promise<Res> =>
    new Promise((resolve, reject) => {
      method.call(client, req, { deadline: Date.now() + (options.deadlineMs ?? timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res!)));
    });
}

export function csiClient(socketPath: string, timeoutMs = 30_000, channelOptions: grpc.ChannelOptions = {}) {
  const { csi } = loadCsiProto();
  const address = `unix://${socketPath}`;
  const creds = grpc.credentials.createInsecure();
  const identity = new csi.v1.Identity(address, creds, channelOptions);
  const node = new csi.v1.Node(address, creds, channelOptions);
  const controller = new csi.v1.Controller(address, creds, channelOptions);
  return {
    getPluginInfo: promisify<GetPluginInfoResponse__Output>(identity, identity.GetPluginInfo, timeoutMs),
    getPluginCapabilities: promisify<GetPluginCapabilitiesResponse__Output>(identity, identity.GetPluginCapabilities, timeoutMs),
    probe: promisify<ProbeResponse__Output>(identity, identity.Probe, timeoutMs),
    nodePublishVolume: promisify(node, node.NodePublishVolume, timeoutMs),
    nodeUnpublishVolume: promisify(node, node.NodeUnpublishVolume, timeoutMs),
    nodeStageVolume: promisify(node, node.NodeStageVolume, timeoutMs),
    nodeUnstageVolume: promisify(node, node.NodeUnstageVolume, timeoutMs),
    nodeGetCapabilities: promisify<NodeGetCapabilitiesResponse__Output>(node, node.NodeGetCapabilities, timeoutMs),
    nodeGetInfo: promisify<NodeGetInfoResponse__Output>(node, node.NodeGetInfo, timeoutMs),
    nodeGetVolumeStats: promisify(node, node.NodeGetVolumeStats, timeoutMs),
    nodeExpandVolume: promisify(node, node.NodeExpandVolume, timeoutMs),
    controllerGetCapabilities: promisify<ControllerGetCapabilitiesResponse__Output>(controller, controller.ControllerGetCapabilities, timeoutMs),
    createVolume: promisify(controller, controller.CreateVolume, timeoutMs),
    close() {
      identity.close();
      node.close();
      controller.close();
    },
  };
}

export type CsiClient = ReturnType<typeof csiClient>;

/** A NodePublishVolume request shaped as the kubelet sends it for an inline volume. */
export function kubeletPublishRequest(args: {
  targetPath: string;
  spc: string;
  pod?: { name: string; namespace: string; uid: string; serviceAccount?: string };
  secrets?: Record<string, string>;
  volumeContext?: Record<string, string>;
}): NodePublishVolumeRequest {
  const pod = args.pod ?? { name: 'web-0', namespace: 'default', uid: '0b0c0d0e-1111-2222-3333-444455556666' };
  return {
    volume_id: `csi-${pod.uid}-secrets`,
    target_path: args.targetPath,
    readonly: true,
    volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
    secrets: args.secrets ?? {},
    volume_context: { ...podVolumeContext(args.spc, pod), ...args.volumeContext },
  };
}
