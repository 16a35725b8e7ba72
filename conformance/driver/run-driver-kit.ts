/**
 * Runs the driver checks: the kit's world (driver-env.ts), the driver under test — started
 * by the kit from a binary taking the upstream flags, or started by the user against an
 * endpoint the kit waits for — then the checks, then everything the checks published is
 * unpublished, the driver the kit started is stopped, and the world is torn down.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CsiClient } from '../../harness/csi-client.js';
import { parseUnixEndpoint } from '../../grpc/unix-socket.js';
import { runChecks, type KitResult } from '../check.js';
import { driverChecks } from './driver-checks.js';
import { rotationIntervalMs, startDriverEnv } from './driver-env.js';
import { DriverKit } from './driver-kit.js';
import { createKitSpcs } from './kit-spcs.js';
import { startDriverUnderTest, waitForDriver, worldDriverFlags, type StartedDriver } from './driver-under-test.js';

export const driverCheckIds = driverChecks.map((c) => c.id);

/** Upstream's rotation flags, on with the kit's short interval, so the rotation checks see republishes fetch again. */
const kitRotationFlags = ['--enable-secret-rotation=true', `--rotation-poll-interval=${rotationIntervalMs}ms`];

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

export async function runDriverKit(run: DriverKitRun): Promise<KitResult> {
  const out = run.out;
  const env = await startDriverEnv({ stateDir: run.stateDir, nodeId: run.nodeId ?? 'conformance-node' });
  // Before the driver starts, as a cluster has them before a pod naming them is scheduled.
  createKitSpcs(env.api, env.objects);
  let started: StartedDriver | undefined;
  let client: CsiClient | undefined;
  let kit: DriverKit | undefined;
  try {
    let output: () => Promise<string | undefined>;
    let outputSource: string;
    let target: string;
    if (run.endpoint) {
      const socket = parseUnixEndpoint(run.endpoint);
      out?.write(`start the driver under test with these flags (its world is in ${env.root}):\n  ${[...worldDriverFlags(env, socket), ...kitRotationFlags].join(' \\\n  ')}\nwaiting up to ${Math.round((run.waitMs ?? 120_000) / 1000)} s for unix://${socket} ...\n`);
      const log = run.driverLog ? resolve(run.driverLog) : undefined;
      // Read at check time: the no-secret check runs last, after everything was logged.
      output = async () => (log ? readFile(log, 'utf8').catch(() => undefined) : undefined);
      outputSource = log ?? 'not available';
      target = `unix://${socket}`;
      client = await waitForDriver(socket, run.waitMs ?? 120_000, undefined, run.signal);
    } else {
      const driver = await startDriverUnderTest(env, { driverBin: run.driverBin, driverArgs: [...kitRotationFlags, ...(run.driverArgs ?? [])], waitMs: run.waitMs ?? 120_000, signal: run.signal });
      started = driver;
      ({ target, client } = driver);
      out?.write(`started ${target} on unix://${driver.socket}\n`);
      output = async () => `${driver.proc.stdout()}${driver.proc.stderr()}`;
      outputSource = 'stdout and stderr of the driver the kit started';
    }
    kit = new DriverKit({ env, client, driverName: run.driverName ?? 'secrets-store.csi.k8s.io', output, outputSource, hangDeadlineMs: run.hangDeadlineMs ?? 3000 });
    return await runChecks(driverChecks, kit, { kit: 'driver', target, only: run.only, signal: run.signal, ...(out ? { out } : {}) });
  } finally {
    for (const t of kit?.touched ?? []) await kit!.unpublish(t).catch(() => undefined);
    if (started) await started.stop();
    else client?.close();
    await env.close();
  }
}
