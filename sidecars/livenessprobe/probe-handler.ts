/**
 * GET /healthz: one CSI Probe on a fresh connection to the driver, within --probe-timeout
 * (a stale connection must not answer for a driver that restarted) — 200 "ok" when ready,
 * 500 with the reason when the driver cannot be reached, fails the call, or is not ready.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.js';
import { csiIdentityClient } from '../csi-identity-client.js';

export interface ProbeVerdict {
  status: 200 | 500;
  body: string;
}

export async function probeDriver(csiAddress: string, timeoutMs: number): Promise<ProbeVerdict> {
  const client = csiIdentityClient(csiAddress);
  try {
    const ready = await client.probe(timeoutMs);
    return ready ? { status: 200, body: 'ok' } : { status: 500, body: 'driver responded but is not ready' };
  } catch (err) {
    return { status: 500, body: (err as Error).message };
  } finally {
    client.close();
  }
}

export function probeHandler(csiAddress: string, timeoutMs: number, driverName: string, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if ((req.url ?? '/').split('?')[0] !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz\n');
      return;
    }
    log.trace({ driver: driverName }, 'sending probe request to the CSI driver');
    void probeDriver(csiAddress, timeoutMs).then((v) => {
      if (v.status === 200) log.trace('health check succeeded');
      else log.error({ driver: driverName, reason: v.body }, 'health check failed');
      res.writeHead(v.status, { 'content-type': 'text/plain' }).end(v.body);
    });
  };
}
