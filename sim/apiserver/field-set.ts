/**
 * Field sets as server-side apply keeps them (structured-merge-diff's fieldpath.Set), over
 * plain JSON objects: a tree whose edges are path elements in the FieldsV1 spelling —
 * `f:<field>`, `k:{"name":"app"}` (an item of an associative list, by its keys), `v:"x"`
 * (an item of a set) — and whose nodes may be members (owned themselves). Serialized as
 * `metadata.managedFields[].fieldsV1`, where a member node with children carries `.: {}`.
 *
 * List types are known for the built-in fields kubectl touches (`listKeys`): associative
 * lists by their keys, `metadata.finalizers` as a set; every other list is atomic (owned
 * whole), as an unannotated list is in a CRD schema.
 */
import { isDeepStrictEqual } from 'node:util';

export interface FieldNode {
  member: boolean;
  children: Map<string, FieldNode>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function podSpecLists(prefix: string): Record<string, string[]> {
  const out: Record<string, string[]> = { [`${prefix}.volumes`]: ['name'], [`${prefix}.imagePullSecrets`]: ['name'], [`${prefix}.hostAliases`]: ['ip'] };
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    out[`${prefix}.${list}`] = ['name'];
    out[`${prefix}.${list}.env`] = ['name'];
    out[`${prefix}.${list}.ports`] = ['containerPort', 'protocol'];
    out[`${prefix}.${list}.volumeMounts`] = ['mountPath'];
    out[`${prefix}.${list}.volumeDevices`] = ['devicePath'];
  }
  return out;
}

/** Associative lists (dotted path, indices dropped → key fields). */
export const listKeys: Readonly<Record<string, string[]>> = {
  'metadata.ownerReferences': ['uid'],
  'status.conditions': ['type'],
  ...podSpecLists('spec'),
  ...podSpecLists('spec.template.spec'),
};
/** Lists of scalars merged as sets. */
const setLists = new Set(['metadata.finalizers']);
/** Key defaults the schema declares (a port's protocol is TCP). */
const keyDefaults: Record<string, unknown> = { protocol: 'TCP' };

/** Fields the field manager never tracks (fieldmanager's stripMeta). */
const untracked = new Set(['apiVersion', 'kind', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.resourceVersion', 'metadata.generation', 'metadata.creationTimestamp', 'metadata.deletionTimestamp', 'metadata.deletionGracePeriodSeconds', 'metadata.managedFields', 'metadata.selfLink']);

/**
 * Object fields an update owns themselves when it adds them: maps and optional (pointer)
 * structs. A Go struct that is always there (spec, template, strategy) is not "added", so
 * only its fields are owned — the field manager's diff sees it in the old object too.
 */
const addedAsMember = new Set(['labels', 'annotations', 'data', 'stringData', 'binaryData', 'matchLabels', 'nodeSelector', 'volumeAttributes', 'parameters', 'rollingUpdate', 'securityContext', 'csi', 'nodePublishSecretRef', 'emptyDir', 'secret', 'configMap', 'limits', 'requests']);
const ownedWhenAdded = (path: string) => addedAsMember.has(path.slice(path.lastIndexOf('.') + 1));

export const emptySet = (): FieldNode => ({ member: false, children: new Map() });

function child(node: FieldNode, el: string): FieldNode {
  let c = node.children.get(el);
  if (!c) node.children.set(el, (c = emptySet()));
  return c;
}

/** An item's key element: `k:{"name":"app"}` with the keys in schema order. */
export function keyElement(item: Obj, keys: string[]): string {
  const k: Obj = {};
  for (const key of [...keys].sort()) k[key] = item[key] ?? keyDefaults[key];
  return `k:${JSON.stringify(k)}`;
}

export interface WalkOptions {
  /** Skip `status` (writes to a kind with a status subresource) or everything else ('status' only). */
  scope: 'all' | 'main' | 'status';
}

function inScope(top: string, opts: WalkOptions): boolean {
  return opts.scope === 'all' || (opts.scope === 'main' ? top !== 'status' : top === 'status');
}

/**
 * The fields an applied configuration sets (SMD's ToFieldSet): leaves, items of associative
 * lists and sets, atomic lists, empty objects; object fields themselves only when empty.
 */
export function fieldSetOf(obj: Obj, opts: WalkOptions = { scope: 'all' }): FieldNode {
  const root = emptySet();
  const walk = (value: unknown, node: FieldNode, path: string) => {
    if (isObj(value)) {
      const entries = Object.entries(value).filter(([k]) => !untracked.has(path ? `${path}.${k}` : k) && (path || inScope(k, opts)));
      if (Object.keys(value).length === 0 && path) node.member = true;
      for (const [k, v] of entries) walk(v, child(node, `f:${k}`), path ? `${path}.${k}` : k);
    } else if (Array.isArray(value) && listKeys[path]) {
      for (const item of value) {
        if (!isObj(item)) continue;
        const n = child(node, keyElement(item, listKeys[path]!));
        n.member = true;
        walk(item, n, path);
      }
    } else if (Array.isArray(value) && setLists.has(path)) {
      for (const item of value) child(node, `v:${JSON.stringify(item)}`).member = true;
    } else node.member = true;
  };
  walk(obj, root, '');
  return prune(root);
}

/**
 * The fields an update changed from `before` to `after` (what an Update entry gains): leaves
 * that are new or different, new list items, new object-valued fields (as members).
 */
export function changedFields(before: Obj | undefined, after: Obj, opts: WalkOptions): FieldNode {
  const root = emptySet();
  const walk = (old: unknown, value: unknown, node: FieldNode, path: string) => {
    if (isObj(value)) {
      if (path && !isObj(old) && ownedWhenAdded(path)) node.member = true;
      for (const [k, v] of Object.entries(value)) {
        const p = path ? `${path}.${k}` : k;
        if (untracked.has(p) || (!path && !inScope(k, opts))) continue;
        walk(isObj(old) ? old[k] : undefined, v, child(node, `f:${k}`), p);
      }
    } else if (Array.isArray(value) && listKeys[path]) {
      const keys = listKeys[path]!;
      const olds = new Map((Array.isArray(old) ? old : []).filter(isObj).map((o) => [keyElement(o, keys), o]));
      for (const item of value) {
        if (!isObj(item)) continue;
        const el = keyElement(item, keys);
        const n = child(node, el);
        if (!olds.has(el)) n.member = true;
        walk(olds.get(el), item, n, path);
      }
    } else if (Array.isArray(value) && setLists.has(path)) {
      const olds = Array.isArray(old) ? old : [];
      for (const item of value) if (!olds.some((o) => isDeepStrictEqual(o, item))) child(node, `v:${JSON.stringify(item)}`).member = true;
    } else if (!isDeepStrictEqual(old, value)) node.member = true;
  };
  walk(before, after, root, '');
  return prune(root);
}

/** Drops nodes that own nothing. */
export function prune(node: FieldNode): FieldNode {
  for (const [el, c] of [...node.children]) {
    prune(c);
    if (!c.member && c.children.size === 0) node.children.delete(el);
  }
  return node;
}

export const isEmpty = (s: FieldNode) => !s.member && s.children.size === 0;

export function union(a: FieldNode, b: FieldNode): FieldNode {
  const out: FieldNode = { member: a.member || b.member, children: new Map() };
  for (const el of new Set([...a.children.keys(), ...b.children.keys()])) {
    const x = a.children.get(el);
    const y = b.children.get(el);
    out.children.set(el, x && y ? union(x, y) : structuredClone((x ?? y)!));
  }
  return out;
}

/** `a` without the members of `b`. */
export function difference(a: FieldNode, b: FieldNode): FieldNode {
  const out: FieldNode = { member: a.member && !b.member, children: new Map() };
  for (const [el, x] of a.children) {
    const y = b.children.get(el);
    out.children.set(el, y ? difference(x, y) : structuredClone(x));
  }
  return prune(out);
}

/** Member paths of a set, each a list of path elements. */
export function members(s: FieldNode, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  if (s.member && prefix.length > 0) out.push(prefix);
  for (const [el, c] of [...s.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(...members(c, [...prefix, el]));
  return out;
}

export function has(s: FieldNode, path: string[]): boolean {
  let n: FieldNode | undefined = s;
  for (const el of path) n = n?.children.get(el);
  return n?.member === true;
}

/** FieldsV1 JSON: `{"f:spec":{"f:replicas":{}}}`, a member with children carrying `".": {}`. */
export function toFieldsV1(s: FieldNode): Obj {
  const out: Obj = {};
  const els = [...s.children.keys()].sort();
  if (s.member && els.length > 0) out['.'] = {};
  for (const el of els) out[el] = toFieldsV1(s.children.get(el)!);
  return out;
}

/** The set a FieldsV1 object holds (`{}` at the top is the empty set; below, a member leaf). */
export function fromFieldsV1(v: unknown, top = true): FieldNode {
  const node = emptySet();
  if (!isObj(v)) return node;
  if (Object.keys(v).length === 0 && !top) node.member = true;
  for (const [el, c] of Object.entries(v)) {
    if (el === '.') node.member = true;
    else node.children.set(el, fromFieldsV1(c, false));
  }
  return node;
}

/** A path as SMD prints it: `.spec.containers[name="app"].image`, `.metadata.finalizers[="x"]`. */
export function pathString(path: string[]): string {
  return path
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      const keys = JSON.parse(el.slice(2)) as Obj;
      return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    })
    .join('');
}

/** The dotted schema path of an element path (`spec.containers.image`), for list-type lookups. */
const schemaPath = (path: string[]) => path.filter((el) => el.startsWith('f:')).map((el) => el.slice(2)).join('.');

/** The value at `path` in `obj`, or undefined. */
export function valueAt(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (let i = 0; i < path.length; i++) {
    const el = path[i]!;
    if (el.startsWith('f:')) cur = isObj(cur) ? cur[el.slice(2)] : undefined;
    else if (el.startsWith('k:')) {
      const keys = listKeys[schemaPath(path.slice(0, i))] ?? [];
      cur = Array.isArray(cur) ? cur.find((x) => isObj(x) && keyElement(x, keys) === el) : undefined;
    } else cur = Array.isArray(cur) ? cur.find((x) => `v:${JSON.stringify(x)}` === el) : undefined;
  }
  return cur;
}

/** Removes the field, list item or set value at `path` from `obj` (owned by the caller). */
export function removeAt(obj: Obj, path: string[]): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const el = path.at(-1)!;
  if (el.startsWith('f:')) {
    if (isObj(parent)) delete parent[el.slice(2)];
    return;
  }
  if (!Array.isArray(parent)) return;
  const keys = listKeys[schemaPath(path.slice(0, -1))] ?? [];
  const i = parent.findIndex((x) => (el.startsWith('k:') ? isObj(x) && keyElement(x, keys) === el : `v:${JSON.stringify(x)}` === el));
  if (i >= 0) parent.splice(i, 1);
}

/** Removes the value at `path`, then the objects and lists it leaves empty (as Go's omitempty drops them). */
export function removeFieldAt(obj: Obj, path: string[]): void {
  removeAt(obj, path);
  for (let n = path.length - 1; n > 0; n--) {
    const v = valueAt(obj, path.slice(0, n));
    if ((isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0)) removeAt(obj, path.slice(0, n));
    else break;
  }
}

/**
 * Merges an applied configuration into the live object (structured merge): objects field by
 * field, associative lists item by item on their keys (new items appended), sets by value,
 * everything else (scalars, atomic lists) replaced. Returns a new object.
 */
export function mergeApplied(live: Obj, applied: Obj): Obj {
  const merge = (l: unknown, a: unknown, path: string): unknown => {
    if (isObj(a)) {
      const out: Obj = isObj(l) ? structuredClone(l) : {};
      for (const [k, v] of Object.entries(a)) {
        const p = path ? `${path}.${k}` : k;
        if (v === null) delete out[k];
        else out[k] = merge(out[k], v, p);
      }
      return out;
    }
    if (Array.isArray(a) && listKeys[path]) {
      const keys = listKeys[path]!;
      const out = Array.isArray(l) ? structuredClone(l) : [];
      for (const item of a) {
        if (!isObj(item)) continue;
        const el = keyElement(item, keys);
        const i = out.findIndex((x) => isObj(x) && keyElement(x, keys) === el);
        if (i >= 0) out[i] = merge(out[i], item, path);
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (Array.isArray(a) && setLists.has(path)) {
      const out = Array.isArray(l) ? structuredClone(l) : [];
      for (const item of a) if (!out.some((x) => isDeepStrictEqual(x, item))) out.push(item);
      return out;
    }
    return structuredClone(a);
  };
  return merge(live, applied, '') as Obj;
}
