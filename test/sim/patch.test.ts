/**
 * JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch: results,
 * the 422 / 400 Status errors, and that inputs are never mutated.
 */
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, defaultMergeKeys } from '../../sim/apiserver/patch.js';
import type { ApiError } from '../../sim/apiserver/status.js';

/** The ApiError `fn` throws. */
function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected an error');
}

/** Deep-freezes `v` in place, so any mutation of it throws (ESM code is strict). */
function frozen<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(frozen);
    Object.freeze(v);
  }
  return v;
}

describe('applyMergePatch', () => {
  it('merges objects recursively, deletes on null, replaces arrays and scalars', () => {
    const target = frozen({ a: 1, b: { c: 2, d: 3 }, list: [1, 2, 3], gone: 'x' });
    const out = applyMergePatch(target, { a: 'one', b: { d: null, e: 4 }, list: [9], gone: null, added: { deep: true } });
    expect(out).toEqual({ a: 'one', b: { c: 2, e: 4 }, list: [9], added: { deep: true } });
  });

  it('follows the RFC 7386 appendix edge cases', () => {
    expect(applyMergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(applyMergePatch(['a', 'b'], ['c', 'd'])).toEqual(['c', 'd']);
    expect(applyMergePatch({ a: 'b' }, ['c'])).toEqual(['c']);
    expect(applyMergePatch({ a: 'foo' }, null)).toBeNull();
    expect(applyMergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(applyMergePatch([1, 2], { a: 'b', c: null })).toEqual({ a: 'b' });
    expect(applyMergePatch({}, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
  });

  it('does not share references with its inputs', () => {
    const patch = frozen({ spec: { list: [{ x: 1 }] } });
    const out = applyMergePatch({}, patch) as { spec: { list: Array<{ x: number }> } };
    out.spec.list[0]!.x = 2;
    expect(patch.spec.list[0]!.x).toBe(1);
  });
});

describe('applyJsonPatch', () => {
  const doc = frozen({ metadata: { name: 'p', labels: { app: 'web' }, annotations: { 'a/b': '1', 'c~d': '2' } }, items: ['x', 'y'] });

  it('adds to objects, inserts into arrays and appends with -', () => {
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/tier', value: 'fe' },
      { op: 'add', path: '/items/1', value: 'between' },
      { op: 'add', path: '/items/-', value: 'last' },
      { op: 'add', path: '/metadata/labels/app', value: 'replaced' },
    ]);
    expect(out).toMatchObject({ metadata: { labels: { app: 'replaced', tier: 'fe' } }, items: ['x', 'between', 'y', 'last'] });
  });

  it('unescapes ~1 and ~0 in pointers', () => {
    const out = applyJsonPatch(doc, [
      { op: 'replace', path: '/metadata/annotations/a~1b', value: 'slash' },
      { op: 'remove', path: '/metadata/annotations/c~0d' },
    ]);
    expect(out).toMatchObject({ metadata: { annotations: { 'a/b': 'slash' } } });
    expect((out as typeof doc).metadata.annotations).not.toHaveProperty('c~d');
  });

  it('removes and replaces object members and array elements', () => {
    const out = applyJsonPatch(doc, [
      { op: 'remove', path: '/metadata/labels/app' },
      { op: 'remove', path: '/items/0' },
      { op: 'replace', path: '/items/0', value: 'z' },
      { op: 'replace', path: '/metadata/name', value: 'q' },
    ]);
    expect(out).toMatchObject({ metadata: { name: 'q', labels: {} }, items: ['z'] });
  });

  it('replaces the whole document with an empty path', () => {
    expect(applyJsonPatch(doc, [{ op: 'replace', path: '', value: { fresh: true } }])).toEqual({ fresh: true });
  });

  it('moves and copies values', () => {
    const out = applyJsonPatch(doc, [
      { op: 'copy', from: '/metadata/labels', path: '/spec' },
      { op: 'move', from: '/items/0', path: '/items/-' },
      { op: 'move', from: '/metadata/name', path: '/metadata/generateName' },
    ]) as Record<string, any>;
    expect(out.spec).toEqual({ app: 'web' });
    expect(out.items).toEqual(['y', 'x']);
    expect(out.metadata.generateName).toBe('p');
    expect(out.metadata).not.toHaveProperty('name');
    out.spec.app = 'changed';
    expect(out.metadata.labels.app).toBe('web');
  });

  it('passes a test op on deep equality, ignoring key order', () => {
    const ops = [
      { op: 'test', path: '/metadata/labels', value: { app: 'web' } },
      { op: 'test', path: '/metadata/annotations', value: { 'c~d': '2', 'a/b': '1' } },
      { op: 'replace', path: '/metadata/name', value: 'ok' },
    ];
    expect(applyJsonPatch(doc, ops)).toMatchObject({ metadata: { name: 'ok' } });
  });

  it('fails a test op with a 422 Invalid and applies nothing', () => {
    const err = thrown(() => applyJsonPatch(doc, [{ op: 'replace', path: '/metadata/name', value: 'q' }, { op: 'test', path: '/metadata/name', value: 'p' }]));
    expect(err.status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(err.status.message).toContain('test operation 1 failed: value at "/metadata/name" is not "p"');
    expect(doc.metadata.name).toBe('p');
  });

  it.each([
    ['a non-array patch', { op: 'add' }, 'must be a JSON array'],
    ['an unknown op', [{ op: 'merge', path: '/a', value: 1 }], 'unsupported op "merge"'],
    ['a non-object op', ['add'], 'operation 0 is not an object'],
    ['a missing value', [{ op: 'add', path: '/a' }], 'missing "value"'],
    ['a missing path', [{ op: 'remove' }], '"path" must be a string'],
    ['a pointer without /', [{ op: 'remove', path: 'metadata' }], 'must be empty or start with "/"'],
    ['a bad escape', [{ op: 'remove', path: '/a~2b' }], 'invalid escape'],
    ['removing a missing member', [{ op: 'remove', path: '/metadata/nope' }], 'path "/metadata/nope" does not exist'],
    ['replacing a missing member', [{ op: 'replace', path: '/nope', value: 1 }], 'path "/nope" does not exist'],
    ['adding under a missing parent', [{ op: 'add', path: '/nope/x', value: 1 }], 'path "/nope/x" does not exist'],
    ['an array index out of range', [{ op: 'add', path: '/items/5', value: 1 }], 'array index 5 out of range'],
    ['a non-numeric array index', [{ op: 'replace', path: '/items/first', value: 1 }], 'invalid array index "first"'],
    ['- outside add', [{ op: 'remove', path: '/items/-' }], 'invalid array index "-"'],
    ['moving into a child', [{ op: 'move', from: '/metadata', path: '/metadata/labels/x' }], 'into its own child'],
    ['copying from a missing path', [{ op: 'copy', from: '/nope', path: '/x' }], 'path "/nope" does not exist'],
    ['removing the document', [{ op: 'remove', path: '' }], 'cannot remove the whole document'],
  ])('rejects %s with a 422', (_, ops, fragment) => {
    const err = thrown(() => applyJsonPatch(doc, ops));
    expect(err.status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(err.status.message).toContain(fragment);
  });
});

describe('applyStrategicMergePatch', () => {
  const pod = frozen({
    metadata: {
      name: 'p',
      finalizers: ['a', 'b'],
      ownerReferences: [
        { uid: 'u1', kind: 'ReplicaSet', name: 'rs1', controller: true },
        { uid: 'u2', kind: 'Job', name: 'j' },
      ],
    },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] },
        { name: 'sidecar', image: 'side:1' },
      ],
      volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io' } }],
    },
    status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] },
  });
  type Pod = typeof pod;
  const smp = (patch: unknown) => applyStrategicMergePatch(pod, patch) as Pod;

  it('merges keyed lists element by element and appends new elements', () => {
    const out = smp({ spec: { containers: [{ name: 'sidecar', image: 'side:2' }, { name: 'extra', image: 'e:1' }] } });
    expect(out.spec.containers.map((c) => [c.name, c.image])).toEqual([['app', 'app:1'], ['sidecar', 'side:2'], ['extra', 'e:1']]);
    expect(out.spec.containers[0]!.env).toHaveLength(2);
  });

  it('merges status.conditions by type and ownerReferences by uid', () => {
    const out = smp({
      status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] },
      metadata: { ownerReferences: [{ uid: 'u2', name: 'renamed' }] },
    });
    expect(out.status.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }, { type: 'ContainersReady', status: 'True' }]);
    expect(out.metadata.ownerReferences[1]).toEqual({ uid: 'u2', kind: 'Job', name: 'renamed' });
    expect(out.metadata.ownerReferences[0]!.name).toBe('rs1');
  });

  it('merges nested lists (env, ports) by their keys, ignoring indices in the path', () => {
    const out = smp({ spec: { containers: [{ name: 'app', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }], ports: [{ containerPort: 443, name: 'https' }] }] } });
    const app = out.spec.containers[0]!;
    expect(app.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }]);
    expect(app.ports).toEqual([{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'https' }]);
    expect(app.image).toBe('app:1');
  });

  it('deletes an element with $patch: delete', () => {
    const out = smp({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'u1' }] }, spec: { volumes: [{ $patch: 'delete', name: 'secrets' }] } });
    expect(out.metadata.ownerReferences.map((r) => r.uid)).toEqual(['u2']);
    expect(out.spec.volumes).toEqual([]);
  });

  it('replaces a keyed list with a {$patch: replace} element', () => {
    const out = smp({ status: { conditions: [{ $patch: 'replace' }, { type: 'Ready', status: 'True' }] } });
    expect(out.status.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
  });

  it('replaces unkeyed lists such as metadata.finalizers, and deletes on null', () => {
    const out = smp({ metadata: { finalizers: ['c'], ownerReferences: null }, status: { phase: null } });
    expect(out.metadata.finalizers).toEqual(['c']);
    expect(out.metadata).not.toHaveProperty('ownerReferences');
    expect(out.status).not.toHaveProperty('phase');
  });

  it('removes values with $deleteFromPrimitiveList', () => {
    expect(smp({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }).metadata.finalizers).toEqual(['b']);
  });

  it('drops $setElementOrder and $retainKeys directives instead of storing them', () => {
    const out = smp({
      spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }], containers: [{ name: 'app', image: 'app:2' }], $retainKeys: ['containers'] },
    });
    expect(Object.keys(out.spec).sort()).toEqual(['containers', 'volumes']);
    expect(out.spec.containers.map((c) => c.image)).toEqual(['app:2', 'side:1']);
  });

  it('strips directives from newly added elements and objects', () => {
    const out = smp({ spec: { containers: [{ name: 'new', '$setElementOrder/env': [{ name: 'X' }], env: [{ name: 'X', value: 'x' }] }] } });
    expect(out.spec.containers[2]).toEqual({ name: 'new', env: [{ name: 'X', value: 'x' }] });
  });

  it('uses the pod template keys of Deployments', () => {
    const deploy = frozen({ spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } } } });
    const out = applyStrategicMergePatch(deploy, { spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } }) as typeof deploy;
    expect(out.spec.template.spec.containers).toEqual([{ name: 'a', image: '1' }, { name: 'b', image: '2' }]);
  });

  it('behaves as a plain merge patch without merge keys', () => {
    const out = applyStrategicMergePatch(pod, { spec: { containers: [{ name: 'only' }] } }, {}) as Pod;
    expect(out.spec.containers).toEqual([{ name: 'only' }]);
  });

  it('rejects a keyed-list element without its merge key with a 400', () => {
    const err = thrown(() => smp({ spec: { containers: [{ image: 'x' }] } }));
    expect(err.status.code).toBe(400);
    expect(err.status.message).toBe('map: {"image":"x"} does not contain declared merge key: name');
  });

  it('exports the documented default merge keys', () => {
    expect(defaultMergeKeys).toMatchObject({
      'metadata.ownerReferences': 'uid',
      'spec.containers': 'name',
      'spec.initContainers': 'name',
      'spec.volumes': 'name',
      'spec.template.spec.containers': 'name',
      'spec.template.spec.volumes': 'name',
      'spec.template.spec.initContainers': 'name',
      'status.conditions': 'type',
      'status.containerStatuses': 'name',
      'spec.containers.env': 'name',
      'spec.containers.ports': 'containerPort',
      'spec.containers.volumeMounts': 'mountPath',
    });
    expect(defaultMergeKeys).not.toHaveProperty(['metadata.finalizers']);
  });
});
