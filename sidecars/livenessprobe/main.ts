#!/usr/bin/env node
/**
 * livenessprobe: turns the CSI driver's Identity Probe into an HTTP /healthz a kubelet
 * liveness probe can read, as kubernetes-csi/livenessprobe does — our own, because the Go
 * registry serves no version of upstream's. Parses flags and wires.
 */
import { createLogger } from '../../log/logger.js';
import { csiIdentityClient } from '../csi-identity-client.js';
import { startHttpEndpoint } from '../http-endpoint.js';
import { parseLivenessProbeFlags, usage } from './flags.js';
import { probeHandler } from './probe-handler.js';

/** How long to wait for the driver's socket at start: upstream's five minutes, its longest backoff, so a crashing driver can restart. */
const connectTimeoutMs = 5 * 60_000;

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseLivenessProbeFlags(argv);
  } catch (err) {
    process.stderr.write(`livenessprobe: ${(err as Error).message}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage);
    return 0;
  }
  const log = createLogger({ name: 'livenessprobe', level: flags.verbosity, json: false });

  const csi = csiIdentityClient(flags.csiAddress);
  let driverName: string;
  try {
    await csi.waitForConnection(connectTimeoutMs, log);
    log.info('calling the CSI driver to discover its name');
    driverName = await csi.driverName(connectTimeoutMs);
  } catch (err) {
    log.error({ address: flags.csiAddress, err: (err as Error).message }, 'failed to get the CSI driver name');
    return 1;
  } finally {
    csi.close();
  }
  log.info({ driver: driverName }, 'CSI driver name');

  let http;
  try {
    http = await startHttpEndpoint(flags.listenAddr, '--http-endpoint', probeHandler(flags.csiAddress, flags.probeTimeoutMs, driverName, log));
  } catch (err) {
    log.error({ address: flags.listenAddr, err: (err as Error).message }, 'failed to start the HTTP server');
    return 1;
  }
  log.info({ url: http.url }, 'serving /healthz');

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info({ signal }, 'stopping');
  await http.stop();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
