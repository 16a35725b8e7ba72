/**
 * The embedded Kubernetes API server: real HTTP on 127.0.0.1, JSON shaped as Kubernetes
 * shapes it, so @kubernetes/client-node and the driver work against it unchanged.
 * Lifecycle is in the types: `new SimApiServer()` → `start()` → `StartedSimApiServer`.
 *
 * Served today: get, list, create, update and delete of the kinds in resources.ts, Status
 * errors, fault injection. (Watch, patch, selectors, RBAC, garbage collection and
 * discovery belong to the simulated-cluster work that builds on this.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { ApiFaults, type Verb } from './faults.js';
import { parseRoute, type Route } from './http-routes.js';
import { ObjectStore, type KubeObject } from './object-store.js';
import { apiVersionOf } from './resources.js';
import { ApiError, faultStatus, statusError } from './status.js';

export interface SimApiServerOptions {
  host?: string;
  port?: number;
}

export interface LoggedRequest {
  verb: Verb;
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  code: number;
}

export interface StartedSimApiServer {
  readonly url: string;
  readonly store: ObjectStore;
  readonly faults: ApiFaults;
  /** Every request answered: verb, resource, namespace, name, HTTP code (no bodies). */
  readonly requestLog: LoggedRequest[];
  /** TCP connections accepted since start (clients should reuse keep-alive connections). */
  connections(): number;
  /** Writes a kubeconfig for this server with a bearer-token user. */
  writeKubeconfig(path: string, options?: { token?: string }): Promise<void>;
  stop(): Promise<void>;
}

const maxBody = 8 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<KubeObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody) throw statusError(413, 'request entity too large', 'RequestEntityTooLarge');
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw statusError(400, 'the body of the request must be a JSON object');
  (body as KubeObject).metadata ??= {};
  return body as KubeObject;
}

function checkBody(route: Route, body: KubeObject): void {
  const r = route.resource;
  if (body.kind !== undefined && body.kind !== r.kind) throw statusError(400, `the kind of the object (${body.kind}) does not match the resource (${r.kind})`);
  if (body.apiVersion !== undefined && !r.versions.some((v) => apiVersionOf(r, v) === body.apiVersion)) {
    throw statusError(400, `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(r, route.version)})`);
  }
  if (r.namespaced) {
    if (body.metadata.namespace !== undefined && body.metadata.namespace !== route.namespace) {
      throw statusError(400, 'the namespace of the provided object does not match the namespace sent on the request');
    }
    body.metadata.namespace = route.namespace!;
  }
  if (route.name !== undefined && body.metadata.name !== route.name) {
    throw statusError(400, `the name of the object (${body.metadata.name}) does not match the name on the URL (${route.name})`);
  }
}

export class SimApiServer {
  constructor(private readonly options: SimApiServerOptions = {}) {}

  async start(): Promise<StartedSimApiServer> {
    const store = new ObjectStore();
    const faults = new ApiFaults();
    const requestLog: LoggedRequest[] = [];

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://sim');
      let route: Route | undefined;
      const respond = (code: number, body: unknown, headers: Record<string, string> = {}) => {
        if (route) requestLog.push({ verb: route.verb, resource: route.resource.plural, namespace: route.namespace, name: route.name, code });
        const text = JSON.stringify(body);
        res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
      };
      try {
        route = parseRoute(req.method ?? 'GET', url.pathname);
        const r = route.resource;
        const served = (o: KubeObject): KubeObject => ({ ...o, apiVersion: apiVersionOf(r, route!.version) });
        const fault = faults.match({ verb: route.verb, resource: r.plural, namespace: route.namespace, name: route.name });
        if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
        if (fault?.code) throw faultStatus(fault.code, r, route.verb, route.name, fault.retryAfterSeconds);
        // The authorization seam: RBAC rules are checked here once the simulated cluster loads them.
        switch (route.verb) {
          case 'get':
            return respond(200, served(store.mustGet(r.plural, route.namespace, route.name!)));
          case 'list':
            return respond(200, {
              apiVersion: apiVersionOf(r, route.version),
              kind: `${r.kind}List`,
              metadata: { resourceVersion: '' },
              items: store.list(r.plural, route.namespace).map(served),
            });
          case 'create': {
            const body = await readBody(req);
            checkBody(route, body);
            return respond(201, served(store.create(r.plural, body)));
          }
          case 'update': {
            const body = await readBody(req);
            checkBody(route, body);
            return respond(200, served(store.update(r.plural, body)));
          }
          case 'delete':
            return respond(200, served(store.delete(r.plural, route.namespace, route.name!)));
          default:
            throw statusError(405, `${route.verb} is not supported yet`, 'MethodNotAllowed');
        }
      } catch (err) {
        if (err instanceof ApiError) return respond(err.status.code, err.status, err.headers);
        return respond(500, statusError(500, `Internal error occurred: ${(err as Error).message}`).status);
      }
    };

    const server: Server = createServer((req, res) => void handle(req, res));
    let connections = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { address, port } = server.address() as AddressInfo;
    const url = `http://${address}:${port}`;
    return {
      url,
      store,
      faults,
      requestLog,
      connections: () => connections,
      async writeKubeconfig(path, options = {}) {
        const config = {
          apiVersion: 'v1',
          kind: 'Config',
          // client-node refuses plain http unless TLS verification is explicitly off.
          clusters: [{ name: 'sim', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'sim-user', user: { token: options.token ?? 'sim-admin-token' } }],
          contexts: [{ name: 'sim', context: { cluster: 'sim', user: 'sim-user' } }],
          'current-context': 'sim',
        };
        await writeFile(path, stringify(config), { mode: 0o600 });
      },
      stop: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}
