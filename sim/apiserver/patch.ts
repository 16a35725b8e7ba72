/**
 * The three PATCH flavours of the Kubernetes API, over plain JSON values.
 *
 * Contract (all functions are pure: inputs are never mutated, results share no references
 * with them):
 * - `applyMergePatch` is RFC 7386: `null` deletes a key, objects merge recursively, anything
 *   else (arrays included) replaces; a non-object patch replaces the whole target.
 * - `applyJsonPatch` is RFC 6902: add/remove/replace/move/copy/test with JSON pointers
 *   (`~0` = `~`, `~1` = `/`, `-` appends to an array). Ops apply in order; an invalid op or
 *   path, or a failed `test`, throws a 422 `Invalid` ApiError.
 * - `applyStrategicMergePatch` is a merge patch in which lists whose dotted path (indices
 *   dropped: `spec.containers.env`) is in `mergeKeys` merge element by element on that key:
 *   matching elements merge, new ones are appended, `{"$patch": "delete", <key>: v}` removes
 *   the match, a `{"$patch": "replace"}` element replaces the whole list with the other
 *   elements. `$setElementOrder/*` and `$retainKeys` are dropped, `$patch: replace|delete` on
 *   an object replaces / deletes it, and `$deleteFromPrimitiveList/<field>` removes values
 *   from a primitive list. An element of a keyed list without its key throws a 400 ApiError.
 */
import { statusError } from './status.js';

type Obj = Record<string, unknown>;
export type MergeKeys = Readonly<Record<string, string>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.hasOwn(o, k);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
/** Sets an own property, also for `__proto__`. */
const put = (o: Obj, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObj(a) || !isObj(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => own(b, k) && deepEqual(a[k], b[k]));
}

// ---- RFC 7386 merge patch ----

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return mergeInto(clone(target), patch);
}

/** Merges `patch` into `target`, which the caller owns. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out = isObj(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else put(out, k, mergeInto(own(out, k) ? out[k] : undefined, v));
  }
  return out;
}

// ---- RFC 6902 JSON patch ----

const invalid = (message: string) => statusError(422, `json patch: ${message}`, 'Invalid');

function parsePointer(pointer: unknown, member: string, n: number): string[] {
  if (typeof pointer !== 'string') throw invalid(`operation ${n}: "${member}" must be a string`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw invalid(`operation ${n}: invalid pointer "${pointer}": must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~([^01]|$)/.test(t)) throw invalid(`operation ${n}: invalid escape in pointer "${pointer}"`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function arrayIndex(arr: unknown[], token: string, pointer: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw invalid(`invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw invalid(`array index ${i} out of range in "${pointer}"`);
  return i;
}

function resolve(doc: unknown, tokens: string[], pointer: string): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, pointer, false)];
    else if (isObj(cur) && own(cur, t)) cur = cur[t];
    else throw invalid(`path "${pointer}" does not exist`);
  }
  return cur;
}

/** Adds, replaces or removes (`value` undefined) at `tokens`; returns the (possibly new) document. */
function write(doc: unknown, tokens: string[], pointer: string, mode: 'add' | 'replace' | 'remove', value?: unknown): unknown {
  if (tokens.length === 0) {
    if (mode === 'remove') throw invalid('cannot remove the whole document');
    return value;
  }
  const parent = resolve(doc, tokens.slice(0, -1), pointer);
  const last = tokens.at(-1)!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, pointer, mode === 'add');
    if (mode === 'add') parent.splice(i, 0, value);
    else if (mode === 'replace') parent[i] = value;
    else parent.splice(i, 1);
  } else if (isObj(parent)) {
    if (mode !== 'add' && !own(parent, last)) throw invalid(`path "${pointer}" does not exist`);
    if (mode === 'remove') delete parent[last];
    else put(parent, last, value);
  } else throw invalid(`path "${pointer}" does not exist: parent is not an object or array`);
  return doc;
}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw invalid('the patch must be a JSON array of operations');
  let doc = clone(target);
  ops.forEach((op: unknown, n) => {
    if (!isObj(op)) throw invalid(`operation ${n} is not an object`);
    const path = parsePointer(op.path, 'path', n);
    const pointer = op.path as string;
    const value = () => {
      if (!own(op, 'value')) throw invalid(`operation ${n} ("${String(op.op)}") is missing "value"`);
      return clone(op.value);
    };
    const from = () => parsePointer(op.from, 'from', n);
    switch (op.op) {
      case 'add':
      case 'replace':
        doc = write(doc, path, pointer, op.op, value());
        break;
      case 'remove':
        doc = write(doc, path, pointer, 'remove');
        break;
      case 'move': {
        const source = from();
        const fromPointer = op.from as string;
        if (pointer.startsWith(`${fromPointer}/`)) throw invalid(`operation ${n}: cannot move "${fromPointer}" into its own child "${pointer}"`);
        const moved = resolve(doc, source, fromPointer);
        doc = write(write(doc, source, fromPointer, 'remove'), path, pointer, 'add', moved);
        break;
      }
      case 'copy': {
        const source = from();
        doc = write(doc, path, pointer, 'add', clone(resolve(doc, source, op.from as string)));
        break;
      }
      case 'test': {
        const expected = value();
        if (!deepEqual(resolve(doc, path, pointer), expected)) throw invalid(`test operation ${n} failed: value at "${pointer}" is not ${JSON.stringify(expected)}`);
        break;
      }
      default:
        throw invalid(`operation ${n}: unsupported op ${JSON.stringify(op.op)}`);
    }
  });
  return doc;
}

// ---- strategic merge patch ----

function podSpecKeys(prefix: string): Record<string, string> {
  const keys: Record<string, string> = { [`${prefix}.volumes`]: 'name' };
  for (const list of ['containers', 'initContainers']) {
    keys[`${prefix}.${list}`] = 'name';
    keys[`${prefix}.${list}.env`] = 'name';
    keys[`${prefix}.${list}.ports`] = 'containerPort';
    keys[`${prefix}.${list}.volumeMounts`] = 'mountPath';
  }
  return keys;
}

/** Merge keys of the built-in lists the simulation patches; `metadata.finalizers` is deliberately absent (replaced). */
export const defaultMergeKeys: MergeKeys = Object.freeze({
  'metadata.ownerReferences': 'uid',
  'status.conditions': 'type',
  'status.containerStatuses': 'name',
  'status.initContainerStatuses': 'name',
  ...podSpecKeys('spec'),
  ...podSpecKeys('spec.template.spec'),
});

export function applyStrategicMergePatch(target: unknown, patch: unknown, mergeKeys: MergeKeys = defaultMergeKeys): unknown {
  if (!isObj(patch)) return clone(patch);
  return strategicMerge(clone(target), patch, '', mergeKeys) ?? {};
}

const ignoredDirective = (k: string) => k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/');
const deleteFromPrimitiveList = '$deleteFromPrimitiveList/';

/** Merges `patch` into `target` (owned by the caller) at dotted `path`; undefined means delete. */
function strategicMerge(target: unknown, patch: Obj, path: string, keys: MergeKeys): Obj | undefined {
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isObj(target) && patch.$patch !== 'replace' ? target : {};
  const entries = Object.entries(patch);
  for (const [k, v] of entries) {
    if (ignoredDirective(k) || k.startsWith(deleteFromPrimitiveList)) continue;
    const childPath = path ? `${path}.${k}` : k;
    const current = own(out, k) ? out[k] : undefined;
    const key = own(keys, childPath) ? keys[childPath] : undefined;
    let merged: unknown;
    if (v === null) merged = undefined;
    else if (isObj(v)) merged = strategicMerge(current, v, childPath, keys);
    else if (Array.isArray(v) && key !== undefined) merged = mergeList(Array.isArray(current) ? current : [], v, key, childPath, keys);
    else merged = clone(v);
    if (merged === undefined) delete out[k];
    else put(out, k, merged);
  }
  for (const [k, v] of entries) {
    const field = k.slice(deleteFromPrimitiveList.length);
    if (k.startsWith(deleteFromPrimitiveList) && Array.isArray(v) && own(out, field) && Array.isArray(out[field]))
      put(out, field, (out[field] as unknown[]).filter((x) => !v.some((d) => deepEqual(d, x))));
  }
  return out;
}

function mergeList(base: unknown[], patch: unknown[], key: string, path: string, keys: MergeKeys): unknown[] {
  let out = patch.some((e) => isObj(e) && e.$patch === 'replace') ? [] : [...base];
  for (const el of patch) {
    if (!isObj(el)) throw statusError(400, `strategic merge patch: list "${path}" merges on "${key}" but has a non-object element ${JSON.stringify(el)}`);
    if (el.$patch === 'replace') continue;
    if (!own(el, key)) throw statusError(400, `map: ${JSON.stringify(el)} does not contain declared merge key: ${key}`);
    const same = (x: unknown) => isObj(x) && deepEqual(x[key], el[key]);
    if (el.$patch === 'delete') {
      out = out.filter((x) => !same(x));
      continue;
    }
    const i = out.findIndex(same);
    const merged = strategicMerge(i >= 0 ? out[i] : {}, el, path, keys)!;
    if (i >= 0) out[i] = merged;
    else out.push(merged);
  }
  return out;
}
