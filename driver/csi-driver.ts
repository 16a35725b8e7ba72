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
import type { NodeApi } from './k8s/node-api.js';
import { DriverMetrics } from './metrics/driver-metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { MountRecords } from './mount-records.js';
import { ProviderHealthChecker } from './provider/provider-health.js';
import { discoverProviders } from './provider/provider-socket.js';
import { RefreshWatcher } from './rotation/refresh-watcher.js';
import { RotationPoller } from './rotation/rotation-poller.js';
import { RotationSchedule } from './rotation/rotation-schedule.js';
import { systemClock, type Clock } from './clock.js';
import { SecretSyncController } from './sync/secret-sync-controller.js';

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
> &
  Partial<Pick<DriverFlags, 'metricsAddr' | 'providerHealthCheck' | 'providerHealthCheckIntervalMs'>>;

export interface DriverDeps {
  mounter: Mounter;
  api: SecretsStoreApi;
  /** Events, pods, Secrets and the node's watches; without it there is no sync, refresh or events. */
  nodeApi?: NodeApi;
  logger: Logger;
  /** Time for the rotation schedule and the poller's ticks; the system clock by default. */
  clock?: Clock;
}

export interface StartedCsiDriver {
  /** The unix socket path the services listen on. */
  readonly socketPath: string;
  readonly providers: ProviderClients;
  readonly publisher: VolumePublisher;
  readonly metrics: DriverMetrics;
  readonly records: MountRecords;
  /** http://host:port of the metrics server, when --metrics-addr is set. */
  readonly metricsUrl: string | undefined;
  readonly poller: RotationPoller | undefined;
  readonly health: ProviderHealthChecker | undefined;
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
    const metrics = new DriverMetrics();
    metrics.watchProviders(() => providers.stats());
    const searchDirs = [...config.additionalProviderVolumePaths, config.providerVolume];
    for (const name of discoverProviders(searchDirs)) metrics.knowProvider(name);
    const records = new MountRecords();
    const clock = deps.clock ?? systemClock;
    const schedule = new RotationSchedule(clock, config.rotationPollIntervalMs);
    let sync: SecretSyncController | undefined;
    const nodeApi = deps.nodeApi;
    const publisher = new VolumePublisher(
      deps.mounter,
      providers,
      deps.api,
      { nodeId: config.nodeId, rotationEnabled: config.enableSecretRotation, rotationPollIntervalMs: config.rotationPollIntervalMs },
      deps.logger,
      {
        metrics,
        records,
        schedule,
        ...(nodeApi ? { events: (pod, type, reason, message) => nodeApi.recordEvent(pod, type, reason, message) } : {}),
        onVolumeUpdated: (ns, name, spc) => sync?.volumeUpdated(ns, name, spc),
      },
    );
    let serving = false;
    const server = new grpc.Server();
    const { csi } = loadCsiProto();
    server.addService(csi.v1.Identity.service, identityServer({ driverName: config.driverName, version: driverVersion, ready: () => serving }));
    server.addService(csi.v1.Node.service, nodeServer(publisher, { nodeId: config.nodeId }, deps.logger));
    server.addService(csi.v1.Controller.service, controllerServer());
    await bindUnixSocket(server, socketPath);
    serving = true;
    const metricsServer = config.metricsAddr
      ? await startMetricsServer({ addr: config.metricsAddr, metrics, records, serving: () => serving, nodeId: config.nodeId }).catch(async (err: Error) => {
          await shutdownServer(server, 0);
          await rm(socketPath, { force: true });
          throw new Error(`cannot serve metrics on --metrics-addr ${config.metricsAddr}: ${err.message}`, { cause: err });
        })
      : undefined;
    if (nodeApi) sync = new SecretSyncController({ nodeId: config.nodeId, publishApi: deps.api, nodeApi, metrics, records, logger: deps.logger }).start();
    const refresh = nodeApi ? new RefreshWatcher(config.nodeId, publisher, records, deps.api, nodeApi, deps.logger).start() : undefined;
    const poller = config.enableSecretRotation
      ? new RotationPoller(publisher, records, schedule, { perProviderBound: config.providerMaxInflight, clock }, deps.logger).start()
      : undefined;
    const health = config.providerHealthCheck
      ? new ProviderHealthChecker(providers, searchDirs, config.providerHealthCheckIntervalMs ?? 120_000, metrics, deps.logger).start()
      : undefined;
    deps.logger.info(
      {
        endpoint: socketPath,
        driver: config.driverName,
        version: driverVersion,
        nodeId: config.nodeId,
        mountMode: deps.mounter.kind,
        rotation: config.enableSecretRotation,
        rotationPollIntervalMs: config.rotationPollIntervalMs,
        metrics: metricsServer?.url,
        secretSync: sync !== undefined,
      },
      'CSI driver serving',
    );
    return {
      socketPath,
      providers,
      publisher,
      metrics,
      records,
      metricsUrl: metricsServer?.url,
      poller,
      health,
      async stop(graceMs = 5000) {
        serving = false;
        poller?.stop();
        health?.stop();
        refresh?.stop();
        sync?.stop();
        await shutdownServer(server, graceMs);
        await metricsServer?.stop();
        providers.close();
        await rm(socketPath, { force: true });
        deps.logger.info({ endpoint: socketPath }, 'CSI driver stopped');
      },
    };
  }
}
