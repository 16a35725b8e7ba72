#!/usr/bin/env node
/** secrets-store-csi-driver: parses flags and starts the driver; logic lives elsewhere. */
import { createLogger } from '../log/logger.js';
import { CsiDriver } from './csi-driver.js';
import { parseDriverFlags, usage } from './flags.js';
import { loadKubeConfig } from './k8s/kube-config.js';
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
    const api = new KubeSecretsStoreApi(loadKubeConfig(flags.kubeconfig));
    const driver = await new CsiDriver(flags, { mounter, api, logger }).start();
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

process.exitCode = await main(process.argv.slice(2));
