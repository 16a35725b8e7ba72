/**
 * What a sidecar asks of the CSI driver it sits beside: the Identity service on the
 * driver's unix socket — GetPluginInfo (the driver's name) and Probe (is it ready).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import { loadCsiProto } from '../proto/load.js';
import type { GetPluginInfoResponse__Output } from '../proto/gen/csi/v1/GetPluginInfoResponse.js';
import type { ProbeResponse__Output } from '../proto/gen/csi/v1/ProbeResponse.js';
import { parseUnixEndpoint } from '../grpc/unix-socket.js';

export interface CsiIdentityClient {
  /** Resolves once the driver's socket accepts a connection, logging every `logEveryMs` while it does not; rejects after `timeoutMs`. */
  waitForConnection(timeoutMs: number, log: Logger, logEveryMs?: number): Promise<void>;
  /** The driver's name (GetPluginInfo), within `timeoutMs`. */
  driverName(timeoutMs: number): Promise<string>;
  /**
   * Whether the driver says it is ready (Probe), within `timeoutMs`. A reply without the
   * `ready` field means ready, as the CSI spec and upstream's sidecars read it.
   */
  probe(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** `address`: `/csi/csi.sock`, `unix:///csi/csi.sock` (what the sidecars' --csi-address takes). */
export function csiIdentityClient(address: string): CsiIdentityClient {
  const { csi } = loadCsiProto();
  const identity = new csi.v1.Identity(`unix://${parseUnixEndpoint(address)}`, grpc.credentials.createInsecure());
  return {
    async waitForConnection(timeoutMs, log, logEveryMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const slice = Math.min(until, Date.now() + logEveryMs);
        const err = await new Promise<Error | undefined>((resolve) => identity.waitForReady(slice, resolve));
        if (!err) return;
        if (Date.now() >= until) throw new Error(`the CSI driver's socket ${address} accepted no connection within ${timeoutMs} ms: is the driver running, and is its socket mounted here?`);
        log.info({ address }, 'still connecting to the CSI driver');
      }
    },
    driverName(timeoutMs) {
      return new Promise((resolve, reject) => {
        identity.GetPluginInfo({}, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res?: GetPluginInfoResponse__Output) => {
          if (err) reject(err);
          else if (!res?.name) reject(new Error(`the CSI driver on ${address} returned an empty name from GetPluginInfo`));
          else resolve(res.name);
        });
      });
    },
    probe(timeoutMs) {
      return new Promise((resolve, reject) => {
        identity.Probe({}, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res?: ProbeResponse__Output) => {
          if (err) reject(err);
          else resolve(res?.ready?.value ?? true);
        });
      });
    },
    close: () => identity.close(),
  };
}
