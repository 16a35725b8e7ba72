/**
 * The driver object: the CSI Identity, Node and Controller services on one unix socket,
 * wired to the mounter, the provider clients and the Kubernetes API. Lifecycle is in the
 * types: a `CsiDriver` is configured, `start()` gives a `StartedCsiDriver`, and only that
 * can be stopped.
 */
import * as grpc from '@grpc/grpc-js';
import { rm } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import { bindUnixSocket, parseUnixEndpoint, shutdownServer } from '../grpc/unix-socket.js';
import { loadCsiProto } from '../proto/load.js';
import { controllerServer } from './controller-server.js';
import type { DriverFlags } from './flags.js';
import { identityServer } from './identity-server.js';
import type { SecretsStoreApi } from './k8s/secrets-store-api.js';
import type { Mounter } from './mount/mounter.js';
import { nodeServer } from './node-server.js';
import { ProviderClients } from './provider/provider-client.js';
import { driverVersion } from './version.js';
import { VolumePublisher } from './volume-publisher.js';

export type DriverConfig = Pick<
  DriverFlags,
  | 'endpoint'
  | 'driverName'
  | 'nodeId'
  | 'providerVolume'
  | 'additionalProviderVolumePaths'
  | 'enableSecretRotation'
  | 'rotationPollIntervalMs'
  | 'maxCallRecvMsgSize'
  | 'providerMaxInflight'
  | 'providerTimeoutMs'
>;

export interface DriverDeps {
  mounter: Mounter;
  api: SecretsStoreApi;
  logger: Logger;
}

export interface StartedCsiDriver {
  /** The unix socket path the services listen on. */
  readonly socketPath: string;
  readonly providers: ProviderClients;
  readonly publisher: VolumePublisher;
  /** Stops serving (running calls get `graceMs` to finish) and removes the socket. */
  stop(graceMs?: number): Promise<void>;
}

export class CsiDriver {
  constructor(
    private readonly config: DriverConfig,
    private readonly deps: DriverDeps,
  ) {
    if (config.nodeId === '') throw new Error('--nodeid is required: pass the Kubernetes node name (spec.nodeName)');
  }

  async start(): Promise<StartedCsiDriver> {
    const { config, deps } = this;
    const socketPath = parseUnixEndpoint(config.endpoint);
    const providers = new ProviderClients({
      providerVolume: config.providerVolume,
      additionalProviderVolumePaths: config.additionalProviderVolumePaths,
      maxCallRecvMsgSize: config.maxCallRecvMsgSize,
      maxInflight: config.providerMaxInflight,
      callTimeoutMs: config.providerTimeoutMs,
      logger: deps.logger,
    });
    const publisher = new VolumePublisher(
      deps.mounter,
      providers,
      deps.api,
      { nodeId: config.nodeId, rotationEnabled: config.enableSecretRotation, rotationPollIntervalMs: config.rotationPollIntervalMs },
      deps.logger,
    );
    let serving = false;
    const server = new grpc.Server();
    const { csi } = loadCsiProto();
    server.addService(csi.v1.Identity.service, identityServer({ driverName: config.driverName, version: driverVersion, ready: () => serving }));
    server.addService(csi.v1.Node.service, nodeServer(publisher, { nodeId: config.nodeId }, deps.logger));
    server.addService(csi.v1.Controller.service, controllerServer());
    await bindUnixSocket(server, socketPath);
    serving = true;
    deps.logger.info(
      { endpoint: socketPath, driver: config.driverName, version: driverVersion, nodeId: config.nodeId, mountMode: deps.mounter.kind, rotation: config.enableSecretRotation, rotationPollIntervalMs: config.rotationPollIntervalMs },
      'CSI driver serving',
    );
    return {
      socketPath,
      providers,
      publisher,
      async stop(graceMs = 5000) {
        serving = false;
        await shutdownServer(server, graceMs);
        providers.close();
        await rm(socketPath, { force: true });
        deps.logger.info({ endpoint: socketPath }, 'CSI driver stopped');
      },
    };
  }
}
