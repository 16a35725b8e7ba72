/**
 * The sim's Kubernetes protobuf codec against Kubernetes' own: golden.json holds objects
 * encoded by k8s.io/api's generated Go code and apimachinery's protobuf serializer, with
 * Go's JSON of the same objects (testdata/k8s-protobuf-golden/main.go writes it). Decoding
 * Go's bytes must give Go's JSON; encoding Go's JSON must give Go's bytes, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeObject, encodeObject } from '../../sim/apiserver/protobuf/codec.js';

interface Golden {
  name: string;
  protobuf: string;
  json: Record<string, unknown>;
}
const goldens = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', 'k8s-protobuf-golden', 'golden.json'), 'utf8')) as Golden[];

/** Go's JSON writes a zero metav1.Time as null; the sim leaves such fields out. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

describe('protobuf codec against Kubernetes v1.34 encodings', () => {
  it('covers the kinds kubectl\'s typed commands send and read', () => {
    expect(goldens.map((g) => g.name)).toEqual(
      expect.arrayContaining(['Namespace', 'Secret', 'ConfigMap', 'ServiceAccount', 'Event', 'Pod', 'PodList', 'Deployment', 'ReplicaSet', 'Scale', 'Status', 'DeleteOptions']),
    );
  });

  for (const g of goldens) {
    it(`decodes Go's bytes of ${g.name} to Go's JSON`, () => {
      expect(decodeObject(Buffer.from(g.protobuf, 'hex'))).toEqual(withoutNulls(g.json));
    });

    it(`encodes Go's JSON of ${g.name} to Go's bytes`, () => {
      expect(encodeObject(g.json).toString('hex')).toBe(g.protobuf);
    });
  }
});
