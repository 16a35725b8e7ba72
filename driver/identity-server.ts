/** The CSI Identity service. */
import type { IdentityHandlers } from '../proto/gen/csi/v1/Identity.js';
import { unary } from './grpc-handler.js';

export interface IdentityInfo {
  driverName: string;
  version: string;
  /** Whether the driver is ready to serve; the Probe answer. */
  ready: () => boolean;
}

export function identityServer(info: IdentityInfo): IdentityHandlers {
  return {
    GetPluginInfo: unary(() => ({ name: info.driverName, vendor_version: info.version })),
    // Upstream advertises the Controller service so that generic CSI tooling works; the
    // kubelet never calls it for inline volumes.
    GetPluginCapabilities: unary(() => ({ capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }] })),
    Probe: unary(() => ({ ready: { value: info.ready() } })),
  };
}
