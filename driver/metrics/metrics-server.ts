/**
 * The HTTP server on --metrics-addr: `/metrics` (Prometheus text), `/healthz` (200 while
 * the CSI server is serving, 503 otherwise — what a liveness probe reads) and `/mounts`
 * (the governance record of every volume this node has mounted, as JSON, no secret bytes).
 */
import type { Server } from 'node:http';
import { http } from '../http-modules.js';
import type { AddressInfo } from 'node:net';
import type { MountRecords } from '../mount-records.js';
import type { DriverMetrics } from './driver-metrics.js';

export interface MetricsServerOptions {
  /** ":8095", "127.0.0.1:0", "[::1]:9000". */
  addr: string;
  metrics: DriverMetrics;
  records: MountRecords;
  serving: () => boolean;
  nodeId: string;
}

export interface StartedMetricsServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** A Go listen address (`:8095`, `127.0.0.1:0`, `[::1]:9000`); `flag` names it in the error. */
export function parseListenAddr(addr: string, flag = '--metrics-addr'): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`${flag} ${JSON.stringify(addr)} is not HOST:PORT or :PORT`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: Number(m[3]) };
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<StartedMetricsServer> {
  const { host, port } = parseListenAddr(options.addr);
  const server: Server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/metrics') {
      options.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${err.message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const ok = options.serving();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'CSI server is not serving\n');
      return;
    }
    if (path === '/mounts') {
      const body = JSON.stringify({ node: options.nodeId, mounts: options.records.list() }, null, 2);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /mounts\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shownHost}:${a.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
