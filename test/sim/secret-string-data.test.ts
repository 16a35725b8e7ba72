/**
 * A Secret's stringData, as kube-apiserver treats it (found by the sim-fidelity test): merged
 * into data, base64, over a data key of the same name, on create and on update; never stored.
 */
import { describe, expect, it } from 'vitest';
import { ObjectStore, type KubeObject } from '../../sim/apiserver/object-store.js';

describe("a Secret's stringData", () => {
  const store = new ObjectStore();
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const secret = (extra: object): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...extra }) as KubeObject;

  it('is merged into data on create, overriding a data key of the same name, and not stored', () => {
    const created = store.create('secrets', secret({ data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'two', c: 'three' } })) as KubeObject & { data?: Record<string, string> };
    expect(created.data).toEqual({ a: 'eA==', b: Buffer.from('two').toString('base64'), c: Buffer.from('three').toString('base64') });
    expect('stringData' in created).toBe(false);
    expect('stringData' in store.get('secrets', 'default', 's')!).toBe(false);
  });

  it('is merged into data on update too', () => {
    const current = store.get('secrets', 'default', 's')!;
    const updated = store.update('secrets', { ...current, stringData: { d: 'four' } } as KubeObject) as KubeObject & { data?: Record<string, string> };
    expect(updated.data?.d).toBe(Buffer.from('four').toString('base64'));
    expect(updated.data?.a).toBe('eA==');
    expect('stringData' in updated).toBe(false);
  });
});
