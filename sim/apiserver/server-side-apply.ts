/**
 * Field management as kube-apiserver's fieldmanager does it, over field-set.ts:
 * - every create, update and patch records what it changed in `metadata.managedFields`
 *   under its manager (the `fieldManager` parameter, else the user agent's program name)
 *   as an `Update` entry, and takes those fields away from other managers;
 * - an apply (`application/apply-patch+yaml`) makes the applied configuration its manager's
 *   whole `Apply` entry: its fields are merged into the object, fields the manager applied
 *   before and no longer applies (and nobody else owns) are removed, and fields another
 *   manager owns whose value would change are conflicts — a 409 listing them as the real
 *   server does, unless `force` takes them over.
 * A write that changes nothing leaves managedFields (and their times) as they were.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { KubeObject } from './object-store.js';
import { changedFields, difference, emptySet, fieldSetOf, fromFieldsV1, has, isEmpty, members, mergeApplied, pathString, removeFieldAt, toFieldsV1, union, valueAt, type FieldNode, type WalkOptions } from './field-set.js';
import { statusError } from './status.js';

export const applyPatchTypes = ['application/apply-patch+yaml', 'application/apply-patch+cbor'];

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface FieldManagerContext {
  manager: string;
  apiVersion: string;
  /** 'status' for a write to the status subresource. */
  subresource: string | undefined;
  /** Whether the kind has a status subresource (its main writes do not own status). */
  statusSubresource: boolean;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The manager of a non-apply write: `fieldManager`, else the user agent up to its first `/` (as the real server derives it). */
export function managerOf(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  return (userAgent ?? 'unknown').split('/')[0]!.slice(0, 128);
}

/** 422 for invalid patch options, worded as ValidatePatchOptions. */
export function checkPatchOptions(isApply: boolean, fieldManager: string | null, force: string | null): void {
  if (isApply && !fieldManager) throw statusError(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 'Invalid', { group: 'meta.k8s.io', kind: 'PatchOptions' });
  if (!isApply && force !== null) throw statusError(422, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch', 'Invalid', { group: 'meta.k8s.io', kind: 'PatchOptions' });
}

const scopeOf = (ctx: FieldManagerContext): WalkOptions => ({ scope: ctx.subresource === 'status' ? 'status' : ctx.statusSubresource ? 'main' : 'all' });
const sameOwner = (e: ManagedFieldsEntry, ctx: FieldManagerContext, operation: string) =>
  e.manager === ctx.manager && e.operation === operation && (e.subresource ?? '') === (ctx.subresource ?? '') && (operation === 'Apply' || e.apiVersion === ctx.apiVersion);
const entriesOf = (o: KubeObject | undefined) => structuredClone((o?.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []);
const stripMeta = (o: KubeObject) => {
  const c = structuredClone(o);
  delete c.metadata.managedFields;
  delete c.metadata.resourceVersion;
  return c;
};

/** Entries with `taken` removed from every one but the writer's, empty ones dropped. */
function takeAway(entries: ManagedFieldsEntry[], taken: FieldNode, keep: (e: ManagedFieldsEntry) => boolean): ManagedFieldsEntry[] {
  return entries
    .map((e) => (keep(e) ? e : { ...e, fieldsV1: toFieldsV1(difference(fromFieldsV1(e.fieldsV1), taken)) }))
    .filter((e) => keep(e) || Object.keys(e.fieldsV1).length > 0);
}

/**
 * Sets `next.metadata.managedFields` for a create, update or patch from `before` (undefined
 * for a create) to `next`: the writer's Update entry gains what changed.
 */
export function recordUpdate(before: KubeObject | undefined, next: KubeObject, ctx: FieldManagerContext): void {
  const changed = changedFields(before ? stripMeta(before) : undefined, stripMeta(next), scopeOf(ctx));
  const entries = next.metadata.managedFields !== undefined ? entriesOf(next) : entriesOf(before);
  if (isEmpty(changed)) {
    if (entries.length > 0) next.metadata.managedFields = entries;
    else delete next.metadata.managedFields;
    return;
  }
  const mine = (e: ManagedFieldsEntry) => sameOwner(e, ctx, 'Update');
  const updated = takeAway(entries, changed, mine);
  const i = updated.findIndex(mine);
  const fields = toFieldsV1(i >= 0 ? union(fromFieldsV1(updated[i]!.fieldsV1), changed) : changed);
  const entry: ManagedFieldsEntry = { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: fields, ...(ctx.subresource ? { subresource: ctx.subresource } : {}) };
  if (i >= 0) updated[i] = entry;
  else updated.push(entry);
  next.metadata.managedFields = updated;
}

/** The applied configuration in a request body (YAML or JSON). */
export function parseApplied(text: string): KubeObject {
  let v: unknown;
  try {
    v = parse(text);
  } catch (err) {
    throw statusError(400, `error decoding YAML: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw statusError(400, 'the body of an apply patch must be an object');
  const obj = v as KubeObject;
  if (!obj.apiVersion || !obj.kind) throw statusError(400, `${!obj.apiVersion ? 'apiVersion' : 'kind'} must be set in an applied configuration`);
  obj.metadata ??= {};
  return obj;
}

function managerLabel(e: ManagedFieldsEntry): string {
  const who = `"${e.manager}"${e.subresource ? ` with subresource "${e.subresource}"` : ''}`;
  return e.operation === 'Update' ? `${who} using ${e.apiVersion}` : who;
}

/** 409 with the conflicts, worded as fieldmanager's NewConflictError. */
function conflictError(conflicts: Array<{ entry: ManagedFieldsEntry; path: string[] }>, name: string, group: string, plural: string) {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${managerLabel(c.entry)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) message = `Apply failed with 1 conflict: conflict with ${managerLabel(conflicts[0]!.entry)}: ${pathString(conflicts[0]!.path)}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(managerLabel(c.entry), [...(byManager.get(managerLabel(c.entry)) ?? []), pathString(c.path)]);
    const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return statusError(409, message, 'Conflict', { name, group, kind: plural, causes });
}

/**
 * The object after applying `applied` as `ctx.manager` to `live` (undefined: the object is
 * created from the configuration). Returns `live` itself (same reference) when nothing changes.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, ctx: FieldManagerContext & { force: boolean; group: string; plural: string }): KubeObject {
  const scope = scopeOf(ctx);
  const appliedSet = fieldSetOf(applied, scope);
  const entries = entriesOf(live);
  const mine = (e: ManagedFieldsEntry) => sameOwner(e, ctx, 'Apply');
  const base: KubeObject = live ? stripMeta(live) : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  // Conflicts: fields others own that this apply would give another value.
  const conflicts: Array<{ entry: ManagedFieldsEntry; path: string[] }> = [];
  for (const e of entries) {
    if (mine(e)) continue;
    const theirs = fromFieldsV1(e.fieldsV1);
    for (const path of members(appliedSet)) {
      if (has(theirs, path) && !isDeepStrictEqual(valueAt(base, path), valueAt(applied, path)) && valueAt(base, path) !== undefined) conflicts.push({ entry: e, path });
    }
  }
  if (conflicts.length > 0 && !ctx.force) throw conflictError(conflicts, applied.metadata.name ?? '', ctx.group, ctx.plural);
  let merged = mergeApplied(base, stripMeta(applied)) as KubeObject;
  // What this manager applied before and applies no more goes, unless someone else owns it.
  const previous = entries.find(mine);
  if (previous) {
    const others = entries.filter((e) => !mine(e)).reduce((acc, e) => union(acc, fromFieldsV1(e.fieldsV1)), emptySet());
    const dropped = difference(difference(fromFieldsV1(previous.fieldsV1), appliedSet), others);
    for (const path of members(dropped).reverse()) removeFieldAt(merged, path);
  }
  // Fields whose value this apply changed leave their other owners (forced conflicts included).
  const changed = changedFields(stripMeta(base), stripMeta(merged), scope);
  const taken = union(changed, conflicts.reduce((acc, c) => union(acc, pathSet(c.path)), emptySet()));
  const sameFields = previous && isDeepStrictEqual(toFieldsV1(fromFieldsV1(previous.fieldsV1)), toFieldsV1(appliedSet));
  if (live && isEmpty(changed) && sameFields) return live;
  let updated = takeAway(entries, taken, mine);
  const entry: ManagedFieldsEntry = { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(appliedSet), ...(ctx.subresource ? { subresource: ctx.subresource } : {}) };
  const i = updated.findIndex(mine);
  if (i >= 0) updated[i] = entry;
  else updated = [...updated, entry];
  merged = { ...merged, metadata: { ...merged.metadata, ...(live ? { resourceVersion: live.metadata.resourceVersion } : {}), managedFields: updated } };
  return merged;
}

function pathSet(path: string[]): FieldNode {
  const root = emptySet();
  let n = root;
  for (const el of path) {
    const c = emptySet();
    n.children.set(el, c);
    n = c;
  }
  n.member = true;
  return root;
}
