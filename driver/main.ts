#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * secrets-store-csi-driver: parses flags and starts the driver; logic lives elsewhere.
 *
 * The Node option on the first line caps V8's young generation at 2 MiB per semi-space
 * (Node 24's default grows it to 16): the driver's garbage is small and short-lived, and the
 * cap takes about 27 MiB off its idle RSS and about 90 MiB off its peak in a 500-volume
 * mount storm, with no measurable cost in publish latency (bench/, memory and storm
 * groups). harness/managed-process.ts starts the driver with the same option.
 */
import { createLogger } from '../log/logger.js';
import { CsiDriver } from './csi-driver.js';
import { parseDriverFlags, usage } from './flags.js';
import { KubeClient } from './k8s/kube-client.js';
import { loadKubeConfig } from './k8s/kube-config.js';
import { KubeNodeApi } from './k8s/node-api.js';
import { KubeSecretsStoreApi } from './k8s/secrets-store-api.js';
import { selectMounter } from './mount/select-mounter.js';
import { driverVersion } from './version.js';

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseDriverFlags(argv);
  } catch (err) {
    process.stderr.write(`secrets-store-csi-driver: ${(err as Error).message}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`secrets-store-csi-driver ${driverVersion} (node ${process.version})\n`);
    return 0;
  }
  const logger = createLogger({ name: 'secrets-store-csi-driver', level: flags.verbosity, json: flags.logFormatJson });
  try {
    const mounter = await selectMounter(flags.mountMode);
    if (mounter.kind === 'dir') {
      logger.warn('mount mode dir: volumes are plain directories on the backing filesystem, not tmpfs (run as root for tmpfs)');
    }
    const client = new KubeClient(loadKubeConfig(flags.kubeconfig), {
      onRetry: (r) => logger.debug(r, 'Kubernetes API request sent again'),
    });
    const api = new KubeSecretsStoreApi(client);
    const nodeApi = new KubeNodeApi(client, logger, 'secrets-store-csi-driver', flags.nodeId);
    const driver = await new CsiDriver(flags, { mounter, api, nodeApi, logger }).start();
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await driver.stop();
    return 0;
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'driver failed');
    return 1;
  }
}

// Exit as soon as the shutdown is done: idle keep-alive connections to the API server
// would otherwise hold the process for their timeout.
process.exit(await main(process.argv.slice(2)));
