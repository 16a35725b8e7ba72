/**
 * URL routing of the Kubernetes REST API: `/api/v1/...` for the core group and
 * `/apis/{group}/{version}/...` for the others; namespaced or cluster-scoped; collection,
 * named object or subresource (`status`, `scale`, a pod's `log`); the verb from the method and `?watch`.
 */
import type { Verb } from './faults.js';
import { findResource, type ResourceKind } from './resources.js';
import { statusError } from './status.js';

export interface Route {
  resource: ResourceKind;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | 'scale' | 'log' | undefined;
  verb: Verb;
}

const notFound = (method: string, pathname: string) =>
  statusError(404, `the server could not find the requested resource (${method} ${pathname})`, 'NotFound');

/** A path segment with its %-escapes decoded; a malformed escape is the client's error (400). */
function decodeSegment(segment: string, pathname: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw statusError(400, `the request path ${JSON.stringify(pathname)} has a malformed %-escape in ${JSON.stringify(segment)}`, 'BadRequest');
  }
}

/** Parses a resource URL; undefined when the path is not under /api or /apis/{g}/{v}. */
export function parseRoute(method: string, pathname: string, query: URLSearchParams): Route | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeSegment(p, pathname));
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2]!)?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  const resource = plural ? findResource(group, version, plural) : undefined;
  if (!resource || extra.length > 0 || (namespace !== undefined && !resource.namespaced)) throw notFound(method, pathname);
  let subresource: Route['subresource'];
  if (sub !== undefined) {
    const scalable = resource.plural === 'deployments' || resource.plural === 'replicasets';
    if (sub === 'status' && resource.statusSubresource) subresource = 'status';
    else if (sub === 'status' && resource.group === 'secrets-store.csi.x-k8s.io') subresource = 'status';
    else if (sub === 'scale' && scalable) subresource = 'scale';
    else if (sub === 'log' && resource.plural === 'pods' && method === 'GET') subresource = 'log';
    else throw notFound(method, pathname);
  }
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  let verb: Verb | undefined;
  if (name === undefined) {
    verb = ({ GET: watch ? 'watch' : 'list', POST: 'create', DELETE: 'deletecollection' } as Record<string, Verb>)[method];
  } else {
    verb = ({ GET: watch ? 'watch' : 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, Verb>)[method];
    if (subresource && verb === 'delete') verb = undefined;
  }
  if (!verb) throw statusError(405, `the server does not allow this method on the requested resource (${method} ${pathname})`, 'MethodNotAllowed');
  return { resource, version, namespace, name, subresource, verb };
}
