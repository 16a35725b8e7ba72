/**
 * Runs the driver checks: the kit's world (driver-env.ts), the driver under test — started
 * by the kit from a binary taking the upstream flags, or started by the user against an
 * endpoint the kit waits for — then the checks, then everything the checks published is
 * unpublished, the driver the kit started is stopped, and the world is torn down.
 */
import { access, constants, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { csiClient, type CsiClient } from '../../harness/csi-client.js';
import { driverFlags } from '../../harness/driver-flags.js';
import { freePort } from '../../harness/free-port.js';
import { startBin, startCommand, type ManagedProcess } from '../../harness/managed-process.js';
import { parseUnixEndpoint } from '../../grpc/unix-socket.js';
import { runChecks, type KitResult } from '../check.js';
import { driverChecks } from './driver-checks.js';
import { rotationIntervalMs, startDriverEnv, type DriverEnv } from './driver-env.js';
import { DriverKit } from './driver-kit.js';
import { createKitSpcs } from './kit-spcs.js';

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

/** The upstream flags a driver needs to live in the kit's world (rotation on, with the kit's short interval). */
function kitDriverFlags(env: DriverEnv, socket: string, metricsPort?: number): string[] {
  return [
    ...driverFlags({
      socket,
      nodeId: env.nodeId,
      providerDir: env.providerDir,
      additionalProviderDir: join(env.root, 'etc-providers'),
      metricsAddr: metricsPort === undefined ? undefined : `127.0.0.1:${metricsPort}`,
      kubeconfig: env.driverKubeconfig,
    }),
    '--enable-secret-rotation=true',
    `--rotation-poll-interval=${rotationIntervalMs}ms`,
  ];
}

/** Waits until the socket exists and Probe answers; fails early if the started driver exits. */
async function waitForDriver(socket: string, waitMs: number, proc: ManagedProcess | undefined, signal: AbortSignal | undefined): Promise<CsiClient> {
  const until = Date.now() + waitMs;
  let exited: number | string | undefined;
  void proc?.exited().then((c) => (exited = c));
  let last = 'the socket does not exist yet';
  // One client, made once the socket exists (before that its channel would only back off).
  let client: CsiClient | undefined;
  try {
    for (;;) {
      if (signal?.aborted) throw new Error(`interrupted while waiting for the driver on unix://${socket}`);
      if (exited !== undefined) throw new Error(`the driver exited (${exited}) before serving: ${`${proc!.stdout()}${proc!.stderr()}`.slice(-2000)}`);
      if ((await stat(socket).catch(() => undefined))?.isSocket()) {
        client ??= csiClient(socket, 30_000);
        try {
          await client.probe({}, { deadlineMs: 5000 });
          return client;
        } catch (err) {
          last = `Probe failed: ${(err as Error).message}`;
        }
      }
      if (Date.now() > until) throw new Error(`the driver did not answer on unix://${socket} within ${waitMs} ms (${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    client?.close();
    throw err;
  }
}

export async function runDriverKit(run: DriverKitRun): Promise<KitResult> {
  const out = run.out;
  const env = await startDriverEnv({ stateDir: run.stateDir, nodeId: run.nodeId ?? 'conformance-node' });
  createKitSpcs(env.api, env.objects);
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
      // The socket's directory is the DaemonSet's hostPath on a node: there before the driver starts.
      await mkdir(dirname(socket), { recursive: true });
    } else {
      socket = join(env.root, 'csi', 'csi.sock');
      // As the DaemonSet's hostPath does: upstream's driver does not create the socket's directory.
      await mkdir(dirname(socket), { recursive: true });
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
    client = await waitForDriver(socket, run.waitMs ?? 120_000, proc, run.signal);
    kit = new DriverKit({ env, client, driverName: run.driverName ?? 'secrets-store.csi.k8s.io', output, outputSource, hangDeadlineMs: run.hangDeadlineMs ?? 3000 });
    return await runChecks(driverChecks, kit, { kit: 'driver', target, only: run.only, signal: run.signal, ...(out ? { out } : {}) });
  } finally {
    for (const t of kit?.touched ?? []) await kit!.unpublish(t).catch(() => undefined);
    client?.close();
    await proc?.kill('SIGTERM');
    await env.close();
  }
}
