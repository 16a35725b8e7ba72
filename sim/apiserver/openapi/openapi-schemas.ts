/**
 * The OpenAPI v3 component schemas the simulated API server publishes per group-version:
 * for built-in kinds, the real server's (kubernetes-schemas.json, written by `npm run
 * openapi:refresh` from a real kube-apiserver and committed); for custom resources, the
 * CRD's openAPIV3Schema as the real server publishes it — `apiVersion`, `kind` and
 * `metadata` (a reference to ObjectMeta) with their standard descriptions, the group-
 * version-kind extension, and the meta schemas the reference needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../driver/version.js';
import type { ResourceKind } from '../resources.js';

export type Schema = Record<string, unknown>;
type Gvk = { group: string; version: string; kind: string };

let snapshot: Record<string, Record<string, Schema>> | undefined;

/** The committed real schemas, by group-version path (`api/v1`, `apis/apps/v1`). */
function realSchemas(): Record<string, Record<string, Schema>> {
  snapshot ??= (JSON.parse(readFileSync(join(packageRoot(), 'sim', 'apiserver', 'openapi', 'kubernetes-schemas.json'), 'utf8')) as { groupVersions: Record<string, Record<string, Schema>> }).groupVersions;
  return snapshot;
}

const objectMeta = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** The schemas of a built-in group-version, as the real server publishes them (a copy). */
export function builtInSchemas(gv: string): Record<string, Schema> {
  return structuredClone(realSchemas()[gv] ?? {});
}

/** The name of the schema of `kind` among `schemas` (by its group-version-kind extension). */
export function schemaNameOf(schemas: Record<string, Schema>, gvk: Gvk): string | undefined {
  return Object.keys(schemas).find((n) => ((schemas[n]!['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []).some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind));
}

/** ObjectMeta and the meta schemas it refers to, from the core group's real document. */
export function metaSchemas(): Record<string, Schema> {
  const core = realSchemas()['api/v1'] ?? {};
  return structuredClone(Object.fromEntries(Object.entries(core).filter(([n]) => n.startsWith('io.k8s.apimachinery.pkg.apis.meta.v1.') && n !== 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector' && n !== 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement')));
}

/** `secrets-store.csi.x-k8s.io` → `io.x-k8s.csi.secrets-store`, as the real server names CRD schemas. */
export function crdSchemaName(r: ResourceKind, version: string): string {
  return `${r.group.split('.').reverse().join('.')}.${version}.${r.kind}`;
}

/** A CRD version's schema as the real server publishes it. */
export function crdSchema(r: ResourceKind, version: string, openAPIV3Schema: Schema | undefined): Schema {
  const core = realSchemas()['api/v1'] ?? {};
  const pod = (core['io.k8s.api.core.v1.Pod']?.properties ?? {}) as Record<string, Schema>;
  const base = structuredClone(openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  const properties = { ...((base.properties as Record<string, Schema> | undefined) ?? {}) };
  properties.apiVersion = { type: 'string', description: pod.apiVersion?.description };
  properties.kind = { type: 'string', description: pod.kind?.description };
  properties.metadata = { allOf: [{ $ref: `#/components/schemas/${objectMeta}` }], description: pod.metadata?.description };
  return { ...base, properties, 'x-kubernetes-group-version-kind': [{ group: r.group, version, kind: r.kind }] };
}
