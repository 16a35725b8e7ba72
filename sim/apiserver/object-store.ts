/**
 * The simulated API server's objects, in memory, with the bookkeeping Kubernetes does:
 * uid, a global resourceVersion, creationTimestamp, generation (bumped when anything but
 * metadata and status changes), generateName, AlreadyExists / NotFound / Conflict.
 * Objects are stored once, whatever version they were written through.
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { resourceByPlural, type ResourceKind } from './resources.js';
import { alreadyExists, conflict, notFound, statusError } from './status.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

const key = (plural: string, namespace: string | undefined, name: string) => `${plural}/${namespace ?? ''}/${name}`;
const clone = <T>(o: T): T => structuredClone(o);

function specOf(o: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private revision = 1;

  constructor() {
    for (const name of ['default', 'kube-system']) this.create('namespaces', { metadata: { name } });
  }

  private resource(plural: string): ResourceKind {
    return resourceByPlural(plural);
  }

  private checkNamespace(r: ResourceKind, namespace: string | undefined): void {
    if (!r.namespaced) return;
    if (!namespace) throw statusError(400, `the namespace of the ${r.kind} must be set`);
    if (!this.objects.has(key('namespaces', undefined, namespace))) throw notFound(this.resource('namespaces'), namespace);
  }

  get(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(key(plural, this.resource(plural).namespaced ? namespace : undefined, name));
    return o && clone(o);
  }

  /** Throws NotFound as the API would. */
  mustGet(plural: string, namespace: string | undefined, name: string): KubeObject {
    const o = this.get(plural, namespace, name);
    if (!o) throw notFound(this.resource(plural), name);
    return o;
  }

  list(plural: string, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${plural}/` : `${plural}/${namespace}/`;
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([, o]) => clone(o));
  }

  create(plural: string, input: KubeObject): KubeObject {
    const r = this.resource(plural);
    const obj = clone(input);
    obj.metadata ??= {};
    const namespace = r.namespaced ? obj.metadata.namespace : undefined;
    this.checkNamespace(r, namespace);
    if (!obj.metadata.name) {
      if (!obj.metadata.generateName) throw statusError(422, `${r.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, 'Invalid');
      obj.metadata.name = `${obj.metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    }
    const name = obj.metadata.name;
    if (this.objects.has(key(plural, namespace, name))) throw alreadyExists(r, name);
    obj.kind = r.kind;
    obj.metadata.uid = randomUUID();
    obj.metadata.resourceVersion = String(++this.revision);
    obj.metadata.generation = 1;
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (!r.namespaced) delete obj.metadata.namespace;
    this.objects.set(key(plural, namespace, name), obj);
    return clone(obj);
  }

  /** Replaces an object; a set resourceVersion must be current (optimistic concurrency). */
  update(plural: string, input: KubeObject): KubeObject {
    const r = this.resource(plural);
    const namespace = r.namespaced ? input.metadata?.namespace : undefined;
    const name = input.metadata?.name ?? '';
    const current = this.objects.get(key(plural, namespace, name));
    if (!current) throw notFound(r, name);
    if (input.metadata.resourceVersion && input.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(r, name);
    const obj = clone(input);
    obj.kind = r.kind;
    obj.metadata.uid = current.metadata.uid!;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp!;
    obj.metadata.generation = (current.metadata.generation ?? 1) + (isDeepStrictEqual(specOf(current), specOf(obj)) ? 0 : 1);
    obj.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key(plural, namespace, name), obj);
    return clone(obj);
  }

  delete(plural: string, namespace: string | undefined, name: string): KubeObject {
    const r = this.resource(plural);
    const k = key(plural, r.namespaced ? namespace : undefined, name);
    const current = this.objects.get(k);
    if (!current) throw notFound(r, name);
    this.objects.delete(k);
    return clone(current);
  }
}
