/**
 * The registrar's /healthz, as upstream's: 200 "ok" when the registration socket exists and
 * answers GetInfo with the driver's name; 404 when the socket is gone; 500 with the reason
 * when it does not answer, or answers for another driver.
 */
import * as grpc from '@grpc/grpc-js';
import { lstat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.js';
import { loadPluginRegistrationProto } from '../../proto/load.js';
import type { PluginInfo__Output } from '../../proto/gen/pluginregistration/PluginInfo.js';

export interface HealthzVerdict {
  status: 200 | 404 | 500;
  body: string;
}

async function socketExists(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Asks the registration socket what the kubelet would: GetInfo, within `timeoutMs`. */
function getInfo(socketPath: string, timeoutMs: number): Promise<PluginInfo__Output> {
  const { pluginregistration } = loadPluginRegistrationProto();
  const client = new pluginregistration.Registration(`unix://${socketPath}`, grpc.credentials.createInsecure());
  return new Promise<PluginInfo__Output>((resolve, reject) => {
    client.GetInfo({}, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
  }).finally(() => client.close());
}

export async function checkRegistration(socketPath: string, driverName: string, timeoutMs: number): Promise<HealthzVerdict> {
  let exists;
  try {
    exists = await socketExists(socketPath);
  } catch (err) {
    return { status: 500, body: (err as Error).message };
  }
  if (!exists) return { status: 404, body: 'registration socket does not exist' };
  try {
    const info = await getInfo(socketPath, timeoutMs);
    if (info.name !== driverName) return { status: 500, body: `invalid driver name ${info.name}` };
    return { status: 200, body: 'ok' };
  } catch (err) {
    return { status: 500, body: `error getting info from node-registrar socket: ${(err as Error).message}` };
  }
}

export function healthzHandler(socketPath: string, driverName: string, timeoutMs: number, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if ((req.url ?? '/').split('?')[0] !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz\n');
      return;
    }
    void checkRegistration(socketPath, driverName, timeoutMs).then((v) => {
      if (v.status === 200) log.trace('health check succeeded');
      else log.error({ status: v.status, reason: v.body }, 'health check failed');
      res.writeHead(v.status, { 'content-type': 'text/plain' }).end(v.body);
    });
  };
}
