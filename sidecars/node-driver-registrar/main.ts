#!/usr/bin/env node
/**
 * csi-node-driver-registrar: registers the CSI driver beside it with the kubelet (the
 * kubelet's plugin registration API), as kubernetes-csi/node-driver-registrar does — our
 * own, because the Go registry serves no version of upstream's. Parses flags and wires.
 */
import * as grpc from '@grpc/grpc-js';
import { access, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { createLogger } from '../../log/logger.js';
import { loadPluginRegistrationProto } from '../../proto/load.js';
import { driverVersion } from '../../driver/version.js';
import { csiIdentityClient } from '../csi-identity-client.js';
import { startHttpEndpoint } from '../http-endpoint.js';
import { parseRegistrarFlags, usage } from './flags.js';
import { healthzHandler } from './healthz.js';
import { registrationServer } from './registration-server.js';

/** Where GetInfo leaves its mark for `--mode=kubelet-registration-probe`: beside the driver's socket path, as upstream. */
function registrationProbeFile(kubeletRegistrationPath: string): string {
  return join(dirname(kubeletRegistrationPath), 'registration');
}

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseRegistrarFlags(argv);
  } catch (err) {
    process.stderr.write(`csi-node-driver-registrar: ${(err as Error).message}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`csi-node-driver-registrar ${driverVersion} (secrets-store-csi-ts, node ${process.version})\n`);
    return 0;
  }
  const log = createLogger({ name: 'csi-node-driver-registrar', level: flags.verbosity, json: false });
  const probeFile = registrationProbeFile(flags.kubeletRegistrationPath);

  if (flags.mode === 'kubelet-registration-probe') {
    const registered = await access(probeFile).then(
      () => true,
      () => false,
    );
    if (registered) log.info('kubelet plugin registration succeeded');
    else log.error({ file: probeFile }, "kubelet plugin registration hasn't succeeded yet: the kubelet has not called GetInfo");
    return registered ? 0 : 1;
  }

  log.info({ version: driverVersion, mode: flags.mode }, 'starting');
  if (flags.connectionTimeoutGiven) log.warn('--connection-timeout is deprecated and has no effect');

  const csi = csiIdentityClient(flags.csiAddress);
  let driverName: string;
  try {
    await csi.waitForConnection(Number.POSITIVE_INFINITY, log);
    driverName = await csi.driverName(flags.timeoutMs);
  } catch (err) {
    log.error({ address: flags.csiAddress, err: (err as Error).message }, 'error retrieving the CSI driver name');
    return 1;
  } finally {
    csi.close();
  }
  log.info({ driver: driverName }, 'CSI driver name');

  const socketPath = join(flags.pluginRegistrationPath, `${driverName}-reg.sock`);
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const server = new grpc.Server();
  const { pluginregistration } = loadPluginRegistrationProto();
  server.addService(
    pluginregistration.Registration.service,
    registrationServer(
      { driverName, endpoint: flags.kubeletRegistrationPath, registrationProbeFile: probeFile },
      {
        registered: () => log.info({ driver: driverName }, 'registered with the kubelet'),
        failed: (error) => {
          log.error({ error }, `registration process failed with error: ${error}, restarting registration container`);
          finish(1);
        },
      },
      log,
    ),
  );
  // Only the owner (the kubelet runs as root) may dial it, as upstream's umask 0077 leaves it.
  const umask = process.umask(0o077);
  try {
    await bindUnixSocket(server, socketPath, 0o700);
  } catch (err) {
    log.error({ socketPath, err: (err as Error).message }, 'failed to listen on the registration socket');
    return 1;
  } finally {
    process.umask(umask);
  }
  log.info({ socketPath }, 'registration server started');

  const http = flags.httpEndpoint
    ? await startHttpEndpoint(flags.httpEndpoint, '--http-endpoint', healthzHandler(socketPath, driverName, flags.timeoutMs, log)).catch((err: Error) => {
        log.error({ endpoint: flags.httpEndpoint, err: err.message }, 'failed to start the HTTP server');
        finish(1);
        return undefined;
      })
    : undefined;
  if (http) log.info({ url: http.url }, 'HTTP server started: /healthz');

  // SIGTERM (the kubelet stopping the container): remove the socket so the kubelet deregisters the driver.
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopping: removing the registration socket');
    finish(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  const code = await finished;
  await shutdownServer(server, 1000);
  await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') log.error({ socketPath, err: err.message }, 'failed to remove the registration socket');
  });
  await http?.stop();
  return code;
}

process.exitCode = await main(process.argv.slice(2));
