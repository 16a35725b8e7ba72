/**
 * The fake provider's control API: JSON over HTTP on a loopback address. Scenarios, CI
 * scripts and users script against these routes; keep them stable. The fault proxy in front
 * of an external provider (provider-proxy/) serves the same routes but the object ones: its
 * objects live in the author's backend.
 *
 *   GET    /state            {objects, requests, inflight, maxInflight, lastRequest, faults}
 *   DELETE /state/max-inflight   resets the peak of concurrent Mount calls to the current count
 *   PUT    /objects/{name}   {contents} | {contentsBase64}, optional version
 *   DELETE /objects/{name}
 *   PUT    /faults           {mode, code?, latencyMs?, count?}
 *   DELETE /faults
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultError, parseFault, type Faults } from './faults.js';
import type { ObjectStore } from './store.js';

const maxBody = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody) throw new HttpError(413, `request body over ${maxBody} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The Mount calls counted where the faults apply (the fake provider's service, the proxy). */
export interface CallCounts {
  requests: number;
  inflight: number;
  maxInflight: number;
}

export interface ControlApiDeps {
  faults: Faults;
  counts: CallCounts;
  /** More of GET /state (the fake provider's objects and last request, the proxy's upstream). */
  state(): Record<string, unknown>;
  /** The objects behind PUT|DELETE /objects/{name}; without them those routes answer 404 with `noObjects`. */
  store?: ObjectStore;
  noObjects?: string;
}

async function route(deps: ControlApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  const method = req.method ?? 'GET';
  if (path === '/state') {
    if (method !== 'GET') throw new HttpError(405, 'use GET /state');
    const { requests, inflight, maxInflight } = deps.counts;
    return send(res, 200, { ...deps.state(), requests, inflight, maxInflight, faults: deps.faults.list() });
  }
  if (path === '/state/max-inflight') {
    if (method !== 'DELETE') throw new HttpError(405, 'use DELETE /state/max-inflight');
    deps.counts.maxInflight = deps.counts.inflight;
    return send(res, 200, { maxInflight: deps.counts.maxInflight });
  }
  if (path === '/faults') {
    if (method === 'PUT') {
      try {
        deps.faults.set(parseFault(await readJson(req)));
      } catch (err) {
        if (err instanceof FaultError) throw new HttpError(400, err.message);
        throw err;
      }
      return send(res, 200, deps.faults.list()[0]);
    }
    if (method === 'DELETE') {
      deps.faults.clear();
      return send(res, 204);
    }
    throw new HttpError(405, 'use PUT or DELETE /faults');
  }
  const m = /^\/objects\/([^/]+)$/.exec(path);
  if (m && !deps.store) throw new HttpError(404, deps.noObjects ?? 'no objects here');
  if (m && deps.store) {
    const store = deps.store;
    const name = decodeURIComponent(m[1]!);
    if (method === 'PUT') {
      const body = (await readJson(req)) as Record<string, unknown> | null;
      if (!body || typeof body !== 'object') throw new HttpError(400, 'expected {contents} or {contentsBase64}, optional version');
      if (body.version !== undefined && (typeof body.version !== 'string' || body.version === '')) throw new HttpError(400, 'version must be a non-empty string');
      try {
        const obj = store.put({
          name,
          ...(typeof body.version === 'string' ? { version: body.version } : {}),
          ...(typeof body.contents === 'string' ? { contents: body.contents } : {}),
          ...(typeof body.contentsBase64 === 'string' ? { contentsBase64: body.contentsBase64 } : {}),
        });
        return send(res, 200, { name: obj.name, version: obj.version });
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    }
    if (method === 'DELETE') {
      if (!store.delete(name)) throw new HttpError(404, `object ${JSON.stringify(name)} not found`);
      return send(res, 204);
    }
    throw new HttpError(405, `use PUT or DELETE /objects/${m[1]}`);
  }
  throw new HttpError(404, `no route ${method} ${path}; routes: GET /state, DELETE /state/max-inflight, PUT|DELETE /objects/{name}, PUT|DELETE /faults`);
}

export interface StartedControlApi {
  url: string;
  close(): Promise<void>;
}

/** Listens on `addr` ("127.0.0.1:0" for a free port). */
export async function startControlApi(deps: ControlApiDeps, addr: string): Promise<StartedControlApi> {
  const i = addr.lastIndexOf(':');
  if (i === -1) throw new Error(`--control-addr ${JSON.stringify(addr)}: use HOST:PORT, e.g. 127.0.0.1:0`);
  const host = addr.slice(0, i) || '127.0.0.1';
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--control-addr ${JSON.stringify(addr)}: bad port`);
  const server: Server = createServer((req, res) => {
    route(deps, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: (err as Error).message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
