/**
 * A fake provider, started: the gRPC service on its unix socket and, optionally, the
 * control API. Lifecycle is in the types: `startFakeProvider` gives a `StartedFakeProvider`,
 * the only thing with `close()`.
 */
import * as grpc from '@grpc/grpc-js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bindUnixSocket, shutdownServer } from '../grpc/unix-socket.js';
import { createLogger, type Logger } from '../log/logger.js';
import { loadProviderProto } from '../proto/load.js';
import { driverVersion, packageRoot } from '../driver/version.js';
import { startControlApi } from './control-api.js';
import { Faults } from './faults.js';
import { FakeProviderService, type FakeProviderServiceOptions } from './provider-server.js';
import { ObjectStore, type ObjectInput } from './store.js';
import { isValidProviderName } from '../driver/provider/provider-socket.js';

export const defaultStoreFile = (): string => join(packageRoot(), 'fake-providers', 'examples', 'store.yaml');

export interface FakeProviderOptions {
  name: string;
  socket: string;
  /** A YAML store file; the example store when neither this nor `objects` is given. */
  storeFile?: string;
  objects?: ObjectInput[];
  /** HOST:PORT for the control API; none when absent. */
  controlAddr?: string;
  logger?: Logger;
  /** In-process only: sees every Mount request as received (never exposed by the control API). */
  onMount?: FakeProviderServiceOptions['onMount'];
}

export interface StartedFakeProvider {
  readonly name: string;
  readonly socket: string;
  /** The control API's base URL, or null. */
  readonly control: string | null;
  readonly store: ObjectStore;
  readonly faults: Faults;
  readonly service: FakeProviderService;
  close(): Promise<void>;
}

export async function startFakeProvider(options: FakeProviderOptions): Promise<StartedFakeProvider> {
  if (!isValidProviderName(options.name)) {
    throw new Error(`invalid provider name ${JSON.stringify(options.name)}: it must match ^[a-zA-Z0-9_-]{1,30}$`);
  }
  const logger = options.logger ?? createLogger({ name: 'fake-provider' });
  const store = options.objects ? ObjectStore.fromList(options.objects) : ObjectStore.fromFile(options.storeFile ?? defaultStoreFile());
  const faults = new Faults();
  const service = new FakeProviderService({ store, faults, logger, runtimeVersion: driverVersion, onMount: options.onMount });
  const server = new grpc.Server();
  server.addService(loadProviderProto().v1alpha1.CSIDriverProvider.service, service.handlers());
  await bindUnixSocket(server, options.socket);
  let control;
  try {
    control = options.controlAddr ? await startControlApi({ faults, counts: service, store, state: () => ({ objects: store.list(), lastRequest: service.lastRequest }) }, options.controlAddr) : undefined;
  } catch (err) {
    server.forceShutdown();
    await rm(options.socket, { force: true });
    throw err;
  }
  logger.info({ provider: options.name, socket: options.socket, control: control?.url ?? null, objects: store.list().length }, 'fake provider ready');
  return {
    name: options.name,
    socket: options.socket,
    control: control?.url ?? null,
    store,
    faults,
    service,
    async close() {
      await control?.close();
      await shutdownServer(server, 2000);
      await rm(options.socket, { force: true });
    },
  };
}
