/**
 * The sidecars' diagnostics HTTP server on a Go listen address (`:9808`, `0.0.0.0:9808`,
 * `127.0.0.1:0`, `[::1]:9000`): one request handler, stopped by closing every connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseListenAddr } from '../driver/metrics/metrics-server.js';

export interface StartedHttpEndpoint {
  /** `http://host:port` as bound (the port resolved when 0 was asked). */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startHttpEndpoint(addr: string, flag: string, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<StartedHttpEndpoint> {
  const { host, port } = parseListenAddr(addr, flag);
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
