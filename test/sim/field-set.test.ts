/**
 * Field sets as server-side apply computes them, over examples whose FieldsV1 and path
 * spellings are the real server's (as `kubectl get -o yaml --show-managed-fields` and its
 * conflict messages print them).
 */
import { describe, expect, it } from 'vitest';
import { changedFields, fieldSetOf, fromFieldsV1, mergeApplied, members, pathString, removeFieldAt, toFieldsV1 } from '../../sim/apiserver/field-set.js';

describe('field sets', () => {
  it('an applied configuration owns leaves, keyed list items (with ".") and set values, not apiVersion/kind/name', () => {
    const set = fieldSetOf({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['example.com/x'] },
      spec: { containers: [{ name: 'app', image: 'busybox', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }], volumes: [{ name: 'v', emptyDir: {} }] },
    });
    expect(toFieldsV1(set)).toEqual({
      'f:metadata': { 'f:finalizers': { 'v:"example.com/x"': {} }, 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"app"}': {
            '.': {},
            'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
            'f:image': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
        },
        'f:volumes': { 'k:{"name":"v"}': { '.': {}, 'f:emptyDir': {}, 'f:name': {} } },
      },
    });
  });

  it('an update owns what it changed; maps it added are owned themselves', () => {
    const changed = changedFields({ metadata: { name: 's' }, type: 'Opaque' }, { metadata: { name: 's', annotations: { a: 'b' } }, type: 'Opaque', data: { k: 'dg==' } }, { scope: 'all' });
    expect(toFieldsV1(changed)).toEqual({ 'f:data': { '.': {}, 'f:k': {} }, 'f:metadata': { 'f:annotations': { '.': {}, 'f:a': {} } } });
  });

  it('paths print as the real conflict messages print them', () => {
    const set = fromFieldsV1({ 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:image': {} } } } } } });
    expect(members(set).map(pathString)).toEqual(['.spec.template.spec.containers[name="app"].image']);
    expect(pathString(['f:metadata', 'f:finalizers', 'v:"x"'])).toBe('.metadata.finalizers[="x"]');
  });

  it('merge: keyed items merge by key, atomic lists replace; removal drops emptied parents', () => {
    const live = { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }], args: ['x'] }, metadata: { labels: { app: 'w' } } };
    const merged = mergeApplied(live, { spec: { containers: [{ name: 'b', image: '2' }], args: ['y'] } });
    expect(merged).toEqual({ spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }], args: ['y'] }, metadata: { labels: { app: 'w' } } });
    removeFieldAt(merged, ['f:metadata', 'f:labels', 'f:app']);
    expect(merged).toEqual({ spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }], args: ['y'] } });
  });
});
