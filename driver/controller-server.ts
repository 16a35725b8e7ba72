/**
 * The CSI Controller service, served only so that generic CSI tooling and test suites
 * work against a node-only driver: one capability of type UNKNOWN (an empty list breaks
 * them), every other RPC UNIMPLEMENTED, as upstream does.
 */
import type { ControllerHandlers } from '../proto/gen/csi/v1/Controller.js';
import { unary, unimplemented } from './grpc-handler.js';

export function controllerServer(): ControllerHandlers {
  return {
    ControllerGetCapabilities: unary(() => ({ capabilities: [{ rpc: { type: 'UNKNOWN' } }] })),
    CreateVolume: unimplemented('CreateVolume'),
    DeleteVolume: unimplemented('DeleteVolume'),
    ControllerPublishVolume: unimplemented('ControllerPublishVolume'),
    ControllerUnpublishVolume: unimplemented('ControllerUnpublishVolume'),
    ValidateVolumeCapabilities: unimplemented('ValidateVolumeCapabilities'),
    ListVolumes: unimplemented('ListVolumes'),
    GetCapacity: unimplemented('GetCapacity'),
    CreateSnapshot: unimplemented('CreateSnapshot'),
    DeleteSnapshot: unimplemented('DeleteSnapshot'),
    ListSnapshots: unimplemented('ListSnapshots'),
    GetSnapshot: unimplemented('GetSnapshot'),
    ControllerExpandVolume: unimplemented('ControllerExpandVolume'),
    ControllerGetVolume: unimplemented('ControllerGetVolume'),
    ControllerModifyVolume: unimplemented('ControllerModifyVolume'),
  };
}
