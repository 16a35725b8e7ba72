/**
 * What clients read before they touch a resource: `/version`, legacy discovery (`/api`,
 * `/apis`, `/api/v1`, `/apis/{group}/{version}`) and the OpenAPI v3 documents kubectl reads
 * to decide how to validate (`/openapi/v3`, `/openapi/v3/{api|apis}/...`). The OpenAPI
 * paths carry `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter,
 * so kubectl leaves field validation to the server; the component schemas are the real
 * server's for built-in kinds and the CRDs' for custom resources (openapi/openapi-schemas.ts),
 * complete enough for `kubectl explain`.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from './object-store.js';
import { builtInSchemas, crdSchema, crdSchemaName, metaSchemas, schemaNameOf, type Schema } from './openapi/openapi-schemas.js';
import { resourceKinds, type ResourceKind } from './resources.js';

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-sscsi-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function groupVersions(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of resourceKinds) {
    if (r.group === '') continue;
    const versions = groups.get(r.group) ?? [];
    for (const v of r.versions) if (!versions.includes(v)) versions.push(v);
    groups.set(r.group, versions);
  }
  return groups;
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]) {
  return {
    name,
    versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
    preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
  };
}

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groupVersions()].map(([name, versions]) => apiGroup(name, versions)) };
}

export function apiGroupDoc(group: string) {
  const versions = groupVersions().get(group);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

export function apiResourceList(group: string, version: string) {
  const kinds = resourceKinds.filter((r) => r.group === group && r.versions.includes(version));
  if (kinds.length === 0) return undefined;
  const resources = kinds.flatMap((r) => {
    const main = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs ?? verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      storageVersionHash: createHash('sha256').update(`${r.group}/${r.plural}`).digest('base64').slice(0, 12),
    };
    const subs = [];
    if (r.statusSubresource || r.group === 'secrets-store.csi.x-k8s.io') subs.push({ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    if (r.plural === 'pods') subs.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    if (r.plural === 'deployments' || r.plural === 'replicasets') {
      subs.push({ name: `${r.plural}/scale`, singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    }
    return [main, ...subs];
  });
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

// ---- OpenAPI v3 ----

const gvPath = (group: string, version: string) => (group === '' ? `api/${version}` : `apis/${group}/${version}`);

function crdOpenApiSchema(store: ObjectStore, r: ResourceKind, version: string): Record<string, unknown> | undefined {
  const crd = store.get('customresourcedefinitions', undefined, `${r.plural}.${r.group}`);
  const versions = (crd?.spec as { versions?: Array<{ name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }> } | undefined)?.versions;
  return versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
}

/** Component schemas of a group-version: the real server's for built-in kinds, the CRDs' for custom ones (openapi/openapi-schemas.ts). */
function componentSchemas(store: ObjectStore, gv: string, kinds: Array<{ r: ResourceKind; v: string }>): { schemas: Record<string, unknown>; names: Map<ResourceKind, string> } {
  const schemas: Record<string, unknown> = builtInSchemas(gv);
  const names = new Map<ResourceKind, string>();
  for (const { r, v } of kinds) {
    let name = schemaNameOf(schemas as Record<string, Schema>, { group: r.group, version: v, kind: r.kind });
    if (!name) {
      name = crdSchemaName(r, v);
      schemas[name] = crdSchema(r, v, crdOpenApiSchema(store, r, v));
      Object.assign(schemas, metaSchemas());
    }
    names.set(r, name);
  }
  return { schemas, names };
}

export function openApiRoot(store: ObjectStore) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const gvs = new Set<string>(['api/v1']);
  for (const r of resourceKinds) for (const v of r.versions) gvs.add(gvPath(r.group, v));
  for (const gv of gvs) {
    const doc = JSON.stringify(openApiDoc(store, gv) ?? {});
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${createHash('sha512').update(doc).digest('hex').slice(0, 64)}` };
  }
  return { paths };
}

export function openApiDoc(store: ObjectStore, gv: string): Record<string, unknown> | undefined {
  const kinds = resourceKinds.flatMap((r) => r.versions.filter((v) => gvPath(r.group, v) === gv).map((v) => ({ r, v })));
  if (kinds.length === 0) return undefined;
  const { schemas, names } = componentSchemas(store, gv, kinds);
  const paths: Record<string, unknown> = {};
  const fieldValidation = { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } };
  for (const { r, v } of kinds) {
    const name = names.get(r)!;
    const gvk = { group: r.group, version: v, kind: r.kind };
    const ref = { $ref: `#/components/schemas/${name}` };
    const body = { content: { 'application/json': { schema: ref } } };
    const ok = { responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } } };
    const op = (action: string, extra: Record<string, unknown> = {}) => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...ok, ...extra });
    const prefix = `/${gvPath(r.group, v)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    paths[prefix] = { get: op('list'), post: op('post', { parameters: [fieldValidation], requestBody: body }) };
    paths[`${prefix}/{name}`] = {
      get: op('get'),
      put: op('put', { parameters: [fieldValidation], requestBody: body }),
      patch: op('patch', { parameters: [fieldValidation], requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } } }),
      delete: op('delete'),
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: serverVersion.gitVersion }, paths, components: { schemas } };
}

