/**
 * The embedded Kubernetes API server: real HTTPS on 127.0.0.1, JSON shaped as Kubernetes
 * shapes it, so @kubernetes/client-node, kubectl and the driver work against it unchanged.
 * Lifecycle is in the types: `new SimApiServer()` → `start()` → `StartedSimApiServer`.
 *
 * It starts like a fresh cluster (bootstrap.ts) with its control plane (sim/controllers):
 * default ServiceAccounts, garbage collection, Deployments/ReplicaSets and a scheduler.
 * Every resource request is authenticated by bearer token and authorized by RBAC
 * (authorizer.ts), may meet an injected fault (faults.ts), and is then served: get, list
 * and watch with label and field selectors, create, update, merge / strategic-merge / JSON
 * patch, delete and deletecollection, the status and scale subresources, server-side apply
 * with managedFields (server-side-apply.ts), pod logs from the node's kubelet (pod-log.ts),
 * access reviews (access-review.ts) and impersonation (impersonation.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { packageRoot } from '../../driver/version.js';
import { startControlPlane, type ControlPlane } from '../controllers/control-plane.js';
import { answerReview, isReview } from './access-review.js';
import { adminUser, Authorizer, type UserInfo } from './authorizer.js';
import { bootstrapCluster } from './bootstrap.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, openApiDoc, openApiRoot, serverVersion } from './discovery.js';
import { ApiFaults, type Verb } from './faults.js';
import { impersonatedUser } from './impersonation.js';
import { parseRoute, type Route } from './http-routes.js';
import { ObjectStore, type DeleteOptions, type KubeObject } from './object-store.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, defaultMergeKeys } from './patch.js';
import { apiVersionOf, qualifiedName, selectableFields } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, faultStatus, statusError } from './status.js';
import { toTable, wantsTable } from './table.js';
import { listOptions } from './list-options.js';
import { pageOf } from './list-page.js';
import { negotiateOutput, requestFormat, writeBody, type Format } from './content-negotiation.js';
import { decodeBody } from './request-body.js';
import { hasSchema } from './protobuf/k8s-schema.js';
import { NodeLogs, servePodLog } from './pod-log.js';
import { streamWatch } from './watch-stream.js';
import { foldStringData } from './secret-data.js';
import { applyPatchTypes, checkPatchOptions, managerOf, parseApplied, recordUpdate, serverSideApply, type FieldManagerContext } from './server-side-apply.js';

export interface SimApiServerOptions {
  port?: number;
  host?: string;
  /** Start the control-plane controllers (default true). */
  controlPlane?: boolean;
  /** Watch history kept for resuming (events). */
  historySize?: number;
}

export interface LoggedRequest {
  verb: Verb;
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  code: number;
  user: string;
  /** The request's label and field selectors as sent (lists and watches), when it had any. */
  labelSelector?: string;
  fieldSelector?: string;
}

/** The selectors of a request's query, for the request log. */
function selectorsOf(q: URLSearchParams): Pick<LoggedRequest, 'labelSelector' | 'fieldSelector'> {
  const labelSelector = q.get('labelSelector');
  const fieldSelector = q.get('fieldSelector');
  return { ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) };
}

export interface StartedSimApiServer {
  readonly url: string;
  /** The CA that signed the serving certificate (PEM). */
  readonly ca: Buffer;
  readonly store: ObjectStore;
  readonly faults: ApiFaults;
  readonly authorizer: Authorizer;
  /** The kubelets pod logs are read from (each registers its node). */
  readonly nodeLogs: NodeLogs;
  /** Every resource request answered: verb, resource, namespace, name, HTTP code, user, a list's or watch's selectors (no bodies). */
  readonly requestLog: LoggedRequest[];
  /** TCP connections accepted since start (clients should reuse keep-alive connections). */
  connections(): number;
  /** The admin identity's token (system:masters). */
  readonly adminToken: string;
  /** Registers an identity and returns its token. */
  addIdentity(user: UserInfo, token?: string): string;
  /** Writes a kubeconfig for this server; the admin identity unless a token is given. */
  writeKubeconfig(path: string, options?: { token?: string; user?: string }): Promise<void>;
  stop(): Promise<void>;
}

const maxBody = 8 * 1024 * 1024;

/** The serving certificate (see sim/apiserver/tls/README.md) and the CA clients trust. */
export function servingTls(): { key: Buffer; cert: Buffer; ca: Buffer } {
  const dir = join(packageRoot(), 'sim', 'apiserver', 'tls');
  return { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(join(dir, 'ca.crt')) };
}
const adminTokenDefault = 'sim-admin-token';

async function readBodyText(req: IncomingMessage): Promise<string> {
  return (await readBody(req)).toString('utf8');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody) throw statusError(413, 'request entity too large', 'RequestEntityTooLarge');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

/** The fields every kind the sim serves has as objects (a Go struct or map when decoded). */
const objectFields = ['metadata', 'spec', 'status', 'data', 'stringData'] as const;

/** What is wrong with the shape of an object's top-level fields, or undefined. */
function misshapenField(obj: KubeObject): string | undefined {
  for (const field of objectFields) {
    const v = (obj as Record<string, unknown>)[field];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) return `${field} must be an object, not ${Array.isArray(v) ? 'an array' : `a ${typeof v}`}`;
  }
  return undefined;
}

/** Whether objects of the route's resource travel as protobuf: built-in kinds with a schema in proto/k8s. */
function protobufServed(route: Route): boolean {
  const r = route.resource;
  return r.group !== 'secrets-store.csi.x-k8s.io' && hasSchema(apiVersionOf(r, route.version), r.kind);
}

/** The kind of a built-in resource the sim has no protobuf schema for (the real server has one). */
function missingSchema(route: Route): string | undefined {
  return route.resource.group !== 'secrets-store.csi.x-k8s.io' && !protobufServed(route) ? route.resource.kind : undefined;
}

/** A create or update body: JSON, YAML or protobuf (request-body.ts). */
async function readObject(req: IncomingMessage, route: Route): Promise<KubeObject> {
  const format = requestFormat(req.headers['content-type'], () => protobufServed(route), () => missingSchema(route));
  const body = decodeBody(await readBody(req), format);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw statusError(400, 'the body of the request must be a JSON object');
  const wrong = misshapenField(body as KubeObject);
  if (wrong) throw statusError(400, `the body of the request could not be decoded: ${wrong}`);
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

/** Pod defaults the API server fills in on create. */
function defaultPod(body: KubeObject): void {
  const spec = (body.spec ??= {}) as Record<string, unknown>;
  spec.serviceAccountName ??= (spec.serviceAccount as string | undefined) ?? 'default';
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  body.status = { phase: 'Pending', qosClass: 'BestEffort' };
}

function scaleOf(obj: KubeObject): KubeObject {
  const spec = obj.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = obj.status as { replicas?: number } | undefined;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: obj.metadata.name!, namespace: obj.metadata.namespace!, uid: obj.metadata.uid!, resourceVersion: obj.metadata.resourceVersion!, creationTimestamp: obj.metadata.creationTimestamp! },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status?.replicas ?? 0, selector: Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
  };
}

/** A patched object must still be an object with object metadata, as kube-apiserver insists. */
function patchedObject(result: unknown): KubeObject {
  if (!result || typeof result !== 'object' || Array.isArray(result)) throw statusError(422, `the patch made the object ${JSON.stringify(result)?.slice(0, 40) ?? 'undefined'}: it must stay a JSON object`, 'Invalid');
  const wrong = misshapenField(result as KubeObject);
  if (wrong) throw statusError(422, `the patched object is invalid: ${wrong}`, 'Invalid');
  return result as KubeObject;
}

function applyPatch(contentType: string, current: KubeObject, patchText: string, builtIn: boolean): KubeObject {
  const type = contentType.split(';')[0]!.trim();
  const patch = parseJson(patchText);
  switch (type) {
    case 'application/merge-patch+json':
      return patchedObject(applyMergePatch(current, patch));
    case 'application/json-patch+json':
      return patchedObject(applyJsonPatch(current, patch));
    case 'application/strategic-merge-patch+json':
      if (builtIn) return patchedObject(applyStrategicMergePatch(current, patch, defaultMergeKeys));
      break;
  }
  throw statusError(
    415,
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${builtIn ? ', application/strategic-merge-patch+json' : ''}`,
    'UnsupportedMediaType',
  );
}

export class SimApiServer {
  constructor(private readonly options: SimApiServerOptions = {}) {}

  async start(): Promise<StartedSimApiServer> {
    const store = new ObjectStore(this.options.historySize);
    bootstrapCluster(store);
    const authorizer = new Authorizer(store);
    const adminToken = authorizer.addIdentity(adminUser, adminTokenDefault);
    const controlPlane: ControlPlane | undefined = this.options.controlPlane === false ? undefined : startControlPlane(store);
    const faults = new ApiFaults();
    const requestLog: LoggedRequest[] = [];
    const nodeLogs = new NodeLogs();
    const watches = new Set<() => void>();
    let serverAddress = '';

    const handleResource = async (route: Route, url: URL, req: IncomingMessage, res: ServerResponse, user: UserInfo, respond: (code: number, body: unknown, headers?: Record<string, string>) => void) => {
      const r = route.resource;
      const served = (o: KubeObject): KubeObject => ({ ...o, apiVersion: apiVersionOf(r, route.version) });
      const q = url.searchParams;
      const labelSelector = q.get('labelSelector') ? parseLabelSelector(q.get('labelSelector')!) : undefined;
      const fieldSelector = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!, selectableFields(r)) : undefined;
      const builtIn = r.group !== 'secrets-store.csi.x-k8s.io';
      const fields: FieldManagerContext = {
        manager: managerOf(q.get('fieldManager'), req.headers['user-agent']),
        apiVersion: apiVersionOf(r, route.version),
        subresource: route.subresource === 'status' ? 'status' : undefined,
        statusSubresource: r.statusSubresource,
      };
      const dryRun = q.get('dryRun') === 'All';
      switch (route.verb) {
        case 'get': {
          // A plain read is serialized at once (respond): the stored object, uncopied.
          const obj = route.subresource ? store.mustGet(r.plural, route.namespace, route.name!) : (store.peek(r.plural, route.namespace, route.name!) as KubeObject);
          if (route.subresource === 'log') {
            servePodLog(obj, q, res, nodeLogs, (close) => {
              watches.add(close);
              return () => watches.delete(close);
            });
            requestLog.push({ verb: 'get', resource: r.plural, namespace: route.namespace, name: route.name, code: 200, user: user.name });
            return;
          }
          if (!route.subresource && wantsTable(req.headers.accept)) return respond(200, toTable(r, [obj], store.resourceVersion));
          return respond(200, route.subresource === 'scale' ? scaleOf(obj) : served(obj));
        }
        case 'list': {
          const options = listOptions(q, false);
          // The sim keeps no old states: an exact read of anything but the current one is as
          // if etcd had compacted it (the client relists).
          if (options.resourceVersionMatch === 'Exact' && options.resourceVersion !== store.resourceVersion) {
            throw statusError(410, `too old resource version: ${options.resourceVersion} (${store.resourceVersion})`, 'Expired');
          }
          const limit = q.get('limit');
          const page = pageOf(
            store.list(r.plural, { namespace: route.namespace, labelSelector, fieldSelector }),
            { limit: limit === null ? undefined : Number(limit), continueToken: q.get('continue') || undefined, resourceVersion: options.resourceVersion, resourceVersionMatch: options.resourceVersionMatch, selected: !!(labelSelector || fieldSelector) },
            store.resourceVersion,
          );
          if (wantsTable(req.headers.accept)) {
            const table = toTable(r, page.items, page.metadata.resourceVersion);
            return respond(200, { ...table, metadata: page.metadata });
          }
          return respond(200, { apiVersion: apiVersionOf(r, route.version), kind: `${r.kind}List`, metadata: page.metadata, items: page.items.map(served) });
        }
        case 'watch': {
          const options = listOptions(q, true);
          const timeout = q.get('timeoutSeconds');
          requestLog.push({ verb: 'watch', resource: r.plural, namespace: route.namespace, name: route.name, code: 200, user: user.name, ...selectorsOf(q) });
          return streamWatch(
            store,
            res,
            {
              plural: r.plural,
              namespace: route.namespace,
              name: route.name,
              resourceVersion: options.resourceVersion,
              sendInitialEvents: options.sendInitialEvents,
              labelSelector,
              fieldSelector,
              timeoutSeconds: timeout ? Number(timeout) : undefined,
              allowBookmarks: options.allowWatchBookmarks,
              kind: r.kind,
              serve: served,
            },
            (close) => {
              watches.add(close);
              return () => watches.delete(close);
            },
          );
        }
        case 'create': {
          const body = await readObject(req, route);
          checkBody(route, body);
          if (r.plural === 'pods') defaultPod(body);
          if (r.plural === 'secrets') foldStringData(body);
          recordUpdate(undefined, body, fields);
          if (q.get('dryRun')) return respond(201, served({ ...body, kind: r.kind }));
          return respond(201, served(store.create(r.plural, body)));
        }
        case 'update': {
          const body = await readObject(req, route);
          if (route.subresource === 'scale') {
            const current = store.mustGet(r.plural, route.namespace, route.name!);
            const replicas = (body.spec as { replicas?: number } | undefined)?.replicas;
            if (typeof replicas !== 'number' || replicas < 0) throw statusError(422, 'Scale.spec.replicas: Invalid value: must be a non-negative integer', 'Invalid');
            const updated = store.update(r.plural, { ...current, spec: { ...(current.spec as object), replicas } });
            return respond(200, scaleOf(updated));
          }
          checkBody(route, body);
          if (r.plural === 'secrets') foldStringData(body);
          recordUpdate(store.get(r.plural, route.namespace, route.name!), body, fields);
          if (dryRun) return respond(200, served(body));
          return respond(200, served(store.update(r.plural, body, route.subresource === 'status' ? { subresource: 'status' } : {})));
        }
        case 'patch': {
          const patchType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
          const isApply = applyPatchTypes.includes(patchType) && route.subresource !== 'scale';
          checkPatchOptions(isApply, q.get('fieldManager'), q.get('force'));
          if (isApply) {
            // Server-side apply (server-side-apply.ts): creates the object when it does not exist.
            const applied = parseApplied(await readBodyText(req));
            checkBody(route, applied);
            if (r.plural === 'secrets') foldStringData(applied);
            const live = store.get(r.plural, route.namespace, route.name!);
            const before = live && served(live);
            const result = serverSideApply(before, applied, { ...fields, force: q.get('force') === 'true', group: r.group, plural: r.plural });
            if (before && result === before) return respond(200, before);
            if (!live && r.plural === 'pods') defaultPod(result);
            if (dryRun) return respond(live ? 200 : 201, served({ ...result, kind: r.kind }));
            if (!live) return respond(201, served(store.create(r.plural, result)));
            return respond(200, served(store.update(r.plural, result, route.subresource === 'status' ? { subresource: 'status' } : {})));
          }
          const current = store.mustGet(r.plural, route.namespace, route.name!);
          const text = await readBodyText(req);
          if (route.subresource === 'scale') {
            const patched = applyPatch(req.headers['content-type'] ?? '', scaleOf(current), text, true);
            const replicas = (patched.spec as { replicas?: number }).replicas ?? 1;
            return respond(200, scaleOf(store.update(r.plural, { ...current, spec: { ...(current.spec as object), replicas } })));
          }
          const patched = applyPatch(req.headers['content-type'] ?? '', served(current), text, builtIn);
          patched.metadata ??= {};
          if (patched.metadata.resourceVersion === current.metadata.resourceVersion) delete patched.metadata.resourceVersion;
          checkBody(route, patched);
          if (r.plural === 'secrets') foldStringData(patched);
          recordUpdate(served(current), patched, fields);
          if (dryRun) return respond(200, served(patched));
          return respond(200, served(store.update(r.plural, patched, route.subresource === 'status' ? { subresource: 'status' } : {})));
        }
        case 'delete': {
          const body = req.method === 'DELETE' ? await readBody(req) : Buffer.alloc(0);
          const options = (body.length === 0 ? {} : decodeBody(body, requestFormat(req.headers['content-type'], () => protobufServed(route), () => missingSchema(route)))) as DeleteOptions;
          const grace = q.get('gracePeriodSeconds');
          if (grace !== null) options.gracePeriodSeconds = Number(grace);
          const propagation = q.get('propagationPolicy');
          if (propagation) options.propagationPolicy = propagation as DeleteOptions['propagationPolicy'];
          return respond(200, served(store.delete(r.plural, route.namespace, route.name!, options)));
        }
        case 'deletecollection': {
          const items = store.list(r.plural, { namespace: route.namespace, labelSelector, fieldSelector });
          for (const o of items) store.delete(r.plural, o.metadata.namespace, o.metadata.name!);
          return respond(200, { apiVersion: apiVersionOf(r, route.version), kind: `${r.kind}List`, metadata: { resourceVersion: store.resourceVersion }, items: items.map(served) });
        }
      }
    };

    const nonResource = (pathname: string): unknown => {
      if (pathname === '/version') return serverVersion;
      if (pathname === '/api') return apiVersions(serverAddress);
      if (pathname === '/api/v1') return apiResourceList('', 'v1');
      if (pathname === '/apis') return apiGroupList();
      if (pathname === '/openapi/v3') return openApiRoot(store);
      if (pathname.startsWith('/openapi/v3/')) return openApiDoc(store, pathname.slice('/openapi/v3/'.length));
      const parts = pathname.split('/').filter(Boolean);
      if (parts[0] === 'apis' && parts.length === 2) return apiGroupDoc(parts[1]!);
      if (parts[0] === 'apis' && parts.length === 3) return apiResourceList(parts[1]!, parts[2]!);
      return undefined;
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://sim');
      let route: Route | undefined;
      let user: UserInfo | undefined;
      let format: Format = 'json';
      const respond = (code: number, body: unknown, headers: Record<string, string> = {}) => {
        if (route && route.verb !== 'watch') {
          requestLog.push({ verb: route.verb, resource: route.resource.plural, namespace: route.namespace, name: route.name, code, user: user?.name ?? '', ...(route.verb === 'list' ? selectorsOf(url.searchParams) : {}) });
        }
        if (res.headersSent) {
          res.end();
          return;
        }
        if (format !== 'json') return writeBody(res, code, body, format, headers);
        const text = JSON.stringify(body);
        res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
      };
      try {
        if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        route = parseRoute(req.method ?? 'GET', url.pathname, url.searchParams);
        if (!route) {
          const doc = req.method === 'GET' ? nonResource(url.pathname) : undefined;
          if (doc === undefined) throw statusError(404, `the server could not find the requested resource (${req.method} ${url.pathname})`, 'NotFound');
          return respond(200, doc);
        }
        const r = route.resource;
        const resourceRoute = route;
        format = negotiateOutput(req.headers.accept, () => protobufServed(resourceRoute), route.verb === 'watch');
        user = impersonatedUser(authorizer.authenticate(req.headers.authorization), req.headersDistinct, authorizer);
        const access = {
          verb: route.verb,
          group: r.group,
          resource: route.subresource ? `${r.plural}/${route.subresource}` : r.plural,
          namespace: route.namespace,
          name: route.name,
        };
        if (!authorizer.allowed(user, access)) throw authorizer.forbidden(user, access, qualifiedName(r));
        const fault = faults.match({ verb: route.verb, resource: r.plural, namespace: route.namespace, name: route.name, user: user.name });
        if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
        if (fault?.code) throw faultStatus(fault.code, r, route.verb, route.name, fault.retryAfterSeconds);
        if (isReview(r)) {
          if (route.verb !== 'create') throw statusError(405, `the server does not allow this method on the requested resource (${req.method} ${url.pathname})`, 'MethodNotAllowed');
          return respond(201, answerReview({ resource: r, version: route.version, namespace: route.namespace, user, authorizer }, await readBody(req), req.headers['content-type']));
        }
        await handleResource(route, url, req, res, user, respond);
      } catch (err) {
        if (err instanceof ApiError) return respond(err.status.code, err.status, err.headers);
        return respond(500, statusError(500, `Internal error occurred: ${(err as Error).message}`).status);
      }
    };

    const tls = servingTls();
    // Idle keep-alive connections stay open 90 s, as kube-apiserver's (k8s.io/apiserver
    // secure_serving.go IdleTimeout, "matches http.DefaultTransport keep-alive timeout"), not
    // Node's 5 s. Go's transport keeps an idle connection 90 s and does not retry a POST that
    // meets a connection the server closed as it was sent: at 5 s, upstream's driver's create
    // after a pause of 5 s failed now and then with "connection reset by peer".
    const server: Server = createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 90_000, headersTimeout: 32_000 }, (req, res) => void handle(req, res));
    let connections = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { address, port } = server.address() as AddressInfo;
    serverAddress = `${address}:${port}`;
    const url = `https://${serverAddress}`;
    return {
      url,
      ca: tls.ca,
      store,
      faults,
      authorizer,
      nodeLogs,
      requestLog,
      adminToken,
      connections: () => connections,
      addIdentity: (u, token) => authorizer.addIdentity(u, token),
      async writeKubeconfig(path, options = {}) {
        const config = {
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'sscsi-sim', cluster: { server: url, 'certificate-authority-data': tls.ca.toString('base64') } }],
          users: [{ name: options.user ?? 'sim-user', user: { token: options.token ?? adminToken } }],
          contexts: [{ name: 'sscsi-sim', context: { cluster: 'sscsi-sim', user: options.user ?? 'sim-user', namespace: 'default' } }],
          'current-context': 'sscsi-sim',
        };
        await writeFile(path, stringify(config), { mode: 0o600 });
      },
      async stop() {
        controlPlane?.stop();
        authorizer.stop();
        for (const close of [...watches]) close();
        await new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        });
      },
    };
  }
}
