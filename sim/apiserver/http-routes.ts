/**
 * URL routing of the Kubernetes REST API: `/api/v1/...` for the core group and
 * `/apis/{group}/{version}/...` for the others, namespaced or cluster-scoped, collection
 * or named object.
 */
import type { Verb } from './faults.js';
import { findResource, type ResourceKind } from './resources.js';
import { statusError } from './status.js';

export interface Route {
  resource: ResourceKind;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  verb: Verb;
}

export function parseRoute(method: string, pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    throw statusError(404, `the server could not find the requested resource (${method} ${pathname})`, 'NotFound');
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, ...extra] = rest;
  const resource = plural ? findResource(group, version, plural) : undefined;
  if (!resource || extra.length > 0 || (namespace !== undefined && !resource.namespaced)) {
    throw statusError(404, `the server could not find the requested resource (${method} ${pathname})`, 'NotFound');
  }
  const verbs: Record<string, Verb | undefined> = name
    ? { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }
    : { GET: 'list', POST: 'create' };
  const verb = verbs[method];
  if (!verb || verb === 'patch') throw statusError(405, `the server does not allow this method on the requested resource (${method} ${pathname})`, 'MethodNotAllowed');
  return { resource, version, namespace, name, verb };
}
