/**
 * Runs the driver checks: the kit's world (driver-env.ts), the driver under test — started
 * by the kit from a binary taking the upstream flags, or started by the user against an
 * endpoint the kit waits for — then the checks, then everything the checks published is
 * unpublished, the driver the kit started is stopped, and the world is torn down.
 */
import { access, constants, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CsiClient } from '../../harness/csi-client.js';
import { waitForDriverSocket } from '../../harness/driver-ready.js';
import { driverFlags } from '../../harness/driver-flags.js';
import { freePort } from '../../harness/free-port.js';
import { startBin, startCommand, type ManagedProcess } from '../../harness/managed-process.js';
import { parseUnixEndpoint } from '../../grpc/unix-socket.js';
import { runChecks, type KitResult } from '../check.js';
import { driverChecks } from './driver-checks.js';
import { startDriverEnv, type DriverEnv } from './driver-env.js';
import { DriverKit } from './driver-kit.js';

export const driverCheckIds = driverChecks.map((c) => c.id);

export interface DriverKitRun {
  /** A driver the user starts; the kit only waits for its socket. */
  endpoint?: string | undefined;
  /** A driver binary the kit starts with the upstream flags; default ours. */
  driverBin?: string | undefined;
  /** Extra flags for the binary the kit starts. */
  driverArgs?: string[];
  /** The output of a driver the user started, for the no-secret check. */
  driverLog?: string | undefined;
  stateDir?: string | undefined;
  nodeId?: string;
  driverName?: string;
  /** How long to wait for the driver's socket to answer. */
  waitMs?: number;
  hangDeadlineMs?: number;
  only?: readonly string[] | undefined;
  out?: NodeJS.WritableStream;
  /** Ctrl-C: finish the check running, skip the rest, clean up. */
  signal?: AbortSignal | undefined;
}

/** The upstream flags a driver needs to live in the kit's world. */
function kitDriverFlags(env: DriverEnv, socket: string, metricsPort?: number): string[] {
  return driverFlags({
    socket,
    nodeId: env.nodeId,
    providerDir: env.providerDir,
    additionalProviderDir: join(env.root, 'etc-providers'),
    metricsAddr: metricsPort === undefined ? undefined : `127.0.0.1:${metricsPort}`,
    kubeconfig: env.driverKubeconfig,
  });
}

export async function runDriverKit(run: DriverKitRun): Promise<KitResult> {
  const out = run.out;
  const env = await startDriverEnv({ stateDir: run.stateDir, nodeId: run.nodeId ?? 'conformance-node' });
  let proc: ManagedProcess | undefined;
  let client: CsiClient | undefined;
  let kit: DriverKit | undefined;
  try {
    let socket: string;
    let output: () => Promise<string | undefined>;
    let outputSource: string;
    let target: string;
    if (run.endpoint) {
      socket = parseUnixEndpoint(run.endpoint);
      out?.write(`start the driver under test with these flags (its world is in ${env.root}):\n  ${kitDriverFlags(env, socket).join(' \\\n  ')}\nwaiting up to ${Math.round((run.waitMs ?? 120_000) / 1000)} s for unix://${socket} ...\n`);
      const log = run.driverLog ? resolve(run.driverLog) : undefined;
      // Read at check time: the no-secret check runs last, after everything was logged.
      output = async () => (log ? readFile(log, 'utf8').catch(() => undefined) : undefined);
      outputSource = log ?? 'not available';
      target = `unix://${socket}`;
    } else {
      socket = join(env.root, 'csi', 'csi.sock');
      const flags = [...kitDriverFlags(env, socket, await freePort()), ...(run.driverArgs ?? [])];
      if (run.driverBin) {
        const bin = resolve(run.driverBin);
        await access(bin, constants.X_OK).catch(() => {
          throw new Error(`--driver-bin ${bin} is not an executable file`);
        });
        proc = startCommand(bin, flags, { logFile: join(env.root, 'driver.log') });
        target = bin;
      } else {
        proc = startBin('driver/main.js', flags, { logFile: join(env.root, 'driver.log') });
        target = 'secrets-store-csi-driver (this package)';
      }
      out?.write(`started ${target} on unix://${socket}\n`);
      const p = proc;
      output = async () => `${p.stdout()}${p.stderr()}`;
      outputSource = 'stdout and stderr of the driver the kit started';
    }
    client = await waitForDriverSocket(socket, { waitMs: run.waitMs ?? 120_000, proc, signal: run.signal });
    kit = new DriverKit({ env, client, driverName: run.driverName ?? 'secrets-store.csi.k8s.io', output, outputSource, hangDeadlineMs: run.hangDeadlineMs ?? 3000 });
    return await runChecks(driverChecks, kit, { kit: 'driver', target, only: run.only, signal: run.signal, ...(out ? { out } : {}) });
  } finally {
    for (const t of kit?.touched ?? []) await kit!.unpublish(t).catch(() => undefined);
    client?.close();
    await proc?.kill('SIGTERM');
    await env.close();
  }
}
