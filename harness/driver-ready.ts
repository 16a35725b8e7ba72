/**
 * When a CSI driver we did not write is ready: its socket exists and Probe answers. Any
 * binary is judged the same way (no log line to look for); a driver that exits first fails
 * the wait at once, with the end of its output.
 */
import { stat } from 'node:fs/promises';
import { csiClient, type CsiClient } from './csi-client.js';
import type { ManagedProcess } from './managed-process.js';

export interface DriverReadyOptions {
  waitMs: number;
  /** The process serving the socket, when the caller started it. */
  proc?: ManagedProcess | undefined;
  signal?: AbortSignal | undefined;
}

/** Resolves with a client whose Probe answered; the caller closes it. */
export async function waitForDriverSocket(socket: string, options: DriverReadyOptions): Promise<CsiClient> {
  const { waitMs, proc, signal } = options;
  const until = Date.now() + waitMs;
  let exited: number | string | undefined;
  void proc?.exited().then((c) => (exited = c));
  let last = 'the socket does not exist yet';
  for (;;) {
    if (signal?.aborted) throw new Error(`interrupted while waiting for the driver on unix://${socket}`);
    if (exited !== undefined) throw new Error(`the driver exited (${exited}) before serving: ${`${proc!.stdout()}${proc!.stderr()}`.slice(-2000)}`);
    if ((await stat(socket).catch(() => undefined))?.isSocket()) {
      // A fresh client per attempt: a channel that failed to connect (a stale socket left by
      // an earlier run) would otherwise wait out its reconnect backoff.
      const client = csiClient(socket, 30_000);
      try {
        await client.probe({}, { deadlineMs: 5000 });
        return client;
      } catch (err) {
        client.close();
        last = `Probe failed: ${(err as Error).message}`;
      }
    }
    if (Date.now() > until) throw new Error(`the driver did not answer on unix://${socket} within ${waitMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
