/**
 * The driver a checker runs against, in a world from driver-env.ts: the upstream flags that
 * place it there, a binary started with them (ours from dist/, or any build taking
 * upstream's flags), and the wait until its socket answers Probe. Shared by the driver
 * conformance kit and the csi-sanity runner.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CsiClient } from '../../harness/csi-client.js';
import { waitForDriverSocket } from '../../harness/driver-ready.js';
import { driverFlags } from '../../harness/driver-flags.js';
import { freePort } from '../../harness/free-port.js';
import { startBin, startCommand, type ManagedProcess } from '../../harness/managed-process.js';
import type { DriverEnv } from './driver-env.js';

/** The upstream flags a driver needs to live in the world. */
export function worldDriverFlags(env: DriverEnv, socket: string, metricsPort?: number): string[] {
  return driverFlags({
    socket,
    nodeId: env.nodeId,
    providerDir: env.providerDir,
    additionalProviderDir: join(env.root, 'etc-providers'),
    metricsAddr: metricsPort === undefined ? undefined : `127.0.0.1:${metricsPort}`,
    kubeconfig: env.driverKubeconfig,
  });
}

/** Waits until the socket exists and Probe answers; fails early if the started driver exits (harness/driver-ready.ts). */
export function waitForDriver(socket: string, waitMs: number, proc: ManagedProcess | undefined, signal: AbortSignal | undefined): Promise<CsiClient> {
  return waitForDriverSocket(socket, { waitMs, proc, signal });
}

export interface StartedDriver {
  socket: string;
  /** What runs: the binary's path, or "secrets-store-csi-driver (this package)". */
  target: string;
  proc: ManagedProcess;
  /** A client on the socket, answering Probe. */
  client: CsiClient;
  /** Closes the client and stops the driver (SIGTERM). */
  stop(): Promise<void>;
}

/**
 * Starts the driver on `<world>/csi/csi.sock` — the directory made first, as the DaemonSet's
 * hostPath is (upstream's driver does not create it) — and waits for it to answer.
 */
export async function startDriverUnderTest(env: DriverEnv, options: { driverBin?: string | undefined; driverArgs?: readonly string[]; waitMs: number; signal?: AbortSignal | undefined }): Promise<StartedDriver> {
  const socket = join(env.root, 'csi', 'csi.sock');
  await mkdir(dirname(socket), { recursive: true });
  const flags = [...worldDriverFlags(env, socket, await freePort()), ...(options.driverArgs ?? [])];
  const logFile = join(env.root, 'driver.log');
  let proc: ManagedProcess;
  let target: string;
  if (options.driverBin) {
    const bin = resolve(options.driverBin);
    await access(bin, constants.X_OK).catch(() => {
      throw new Error(`--driver-bin ${bin} is not an executable file`);
    });
    proc = startCommand(bin, flags, { logFile });
    target = bin;
  } else {
    proc = startBin('driver/main.js', flags, { logFile });
    target = 'secrets-store-csi-driver (this package)';
  }
  try {
    const client = await waitForDriver(socket, options.waitMs, proc, options.signal);
    return {
      socket,
      target,
      proc,
      client,
      async stop() {
        client.close();
        await proc.kill('SIGTERM');
      },
    };
  } catch (err) {
    await proc.kill('SIGKILL');
    throw err;
  }
}
