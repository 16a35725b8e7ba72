/**
 * Label and field selectors: the string syntax, the metav1.LabelSelector form, matching, and
 * the 400 Status errors for malformed or unsupported selectors.
 */
import { describe, expect, it } from 'vitest';
import {
  labelSelectorFromObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type LabelSelectorObject,
} from '../../sim/apiserver/selectors.js';
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

const matches = (selector: string, labels?: Record<string, string>) => matchesLabels(parseLabelSelector(selector), labels);

describe('parseLabelSelector / matchesLabels', () => {
  const labels = { app: 'web', tier: 'frontend', 'secrets-store.csi.k8s.io/managed': 'true' };

  it('matches everything with an empty or blank selector', () => {
    expect(parseLabelSelector('')).toEqual([]);
    expect(matches('', labels)).toBe(true);
    expect(matches('   ', undefined)).toBe(true);
  });

  it('supports = and == equality', () => {
    expect(parseLabelSelector('app=web')).toEqual([{ key: 'app', operator: 'In', values: ['web'] }]);
    expect(matches('app=web', labels)).toBe(true);
    expect(matches('app==web', labels)).toBe(true);
    expect(matches('app=api', labels)).toBe(false);
    expect(matches('app=web', undefined)).toBe(false);
  });

  it('supports != which also matches objects without the label', () => {
    expect(matches('app!=api', labels)).toBe(true);
    expect(matches('app!=web', labels)).toBe(false);
    expect(matches('missing!=x', labels)).toBe(true);
  });

  it('supports an empty value', () => {
    expect(matches('app=', { app: '' })).toBe(true);
    expect(matches('app=', labels)).toBe(false);
  });

  it('supports in and notin sets', () => {
    expect(parseLabelSelector('tier in (frontend, backend)')).toEqual([{ key: 'tier', operator: 'In', values: ['frontend', 'backend'] }]);
    expect(matches('tier in (frontend,backend)', labels)).toBe(true);
    expect(matches('tier in (backend)', labels)).toBe(false);
    expect(matches('tier notin (backend,cache)', labels)).toBe(true);
    expect(matches('tier notin (frontend)', labels)).toBe(false);
    expect(matches('missing notin (x)', labels)).toBe(true);
    expect(matches('missing in (x)', labels)).toBe(false);
  });

  it('supports exists and does-not-exist, with prefixed keys', () => {
    expect(parseLabelSelector('secrets-store.csi.k8s.io/managed')).toEqual([{ key: 'secrets-store.csi.k8s.io/managed', operator: 'Exists', values: [] }]);
    expect(matches('secrets-store.csi.k8s.io/managed', labels)).toBe(true);
    expect(matches('secrets-store.csi.k8s.io/managed=true', labels)).toBe(true);
    expect(matches('!secrets-store.csi.k8s.io/managed', labels)).toBe(false);
    expect(matches('!missing', labels)).toBe(true);
    expect(matches('missing', labels)).toBe(false);
  });

  it('ANDs comma-separated requirements and tolerates whitespace', () => {
    expect(matches(' app = web , tier in ( frontend ) , !canary ', labels)).toBe(true);
    expect(matches('app=web,tier=backend', labels)).toBe(false);
    expect(parseLabelSelector('app=web, !canary, tier')).toHaveLength(3);
  });

  it.each([
    ['app=web,', "found '', expected: identifier"],
    [',app', "found ',', expected: identifier"],
    ['app web', "found 'web'"],
    ['app in (a,b', "found '', expected: ',' or ')'"],
    ['app in a', "expected: '(' after 'in'"],
    ['app in ()', "values set can't be empty"],
    ['app===web', "found '=', expected: identifier"],
    ['!app=web', "found '=', expected: ',' or end of string"],
    ['-bad=x', 'invalid label key "-bad"'],
    ['Bad_Prefix/app=x', 'invalid label key "Bad_Prefix/app"'],
    ['app=bad value', "found 'value'"],
    ['app=-x', 'invalid label value "-x"'],
  ])('rejects %j with a 400', (text, fragment) => {
    const err = thrown(() => parseLabelSelector(text));
    expect(err.status.code).toBe(400);
    expect(err.status.reason).toBe('BadRequest');
    expect(err.status.message).toMatch(/^unable to parse requirement: /);
    expect(err.status.message).toContain(fragment);
  });
});

describe('labelSelectorFromObject', () => {
  it('matches everything when empty', () => {
    expect(matchesLabels(labelSelectorFromObject({}), undefined)).toBe(true);
  });

  it('ANDs matchLabels and every matchExpressions operator', () => {
    const sel = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend', 'backend'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'pod-template-hash', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    const pod = { app: 'web', tier: 'backend', env: 'dev', 'pod-template-hash': 'abc' };
    expect(matchesLabels(sel, pod)).toBe(true);
    expect(matchesLabels(sel, { ...pod, app: 'api' })).toBe(false);
    expect(matchesLabels(sel, { ...pod, tier: 'cache' })).toBe(false);
    expect(matchesLabels(sel, { ...pod, env: 'prod' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'backend', env: 'dev' })).toBe(false);
    expect(matchesLabels(sel, { ...pod, canary: 'true' })).toBe(false);
  });

  it('rejects invalid expressions with a 400', () => {
    const cases: Array<[LabelSelectorObject, string]> = [
      [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'values must be non-empty'],
      [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'values must be empty'],
      [{ matchExpressions: [{ key: 'a', operator: 'Gt' as never, values: ['1'] }] }, '"Gt" is not a valid label selector operator'],
      [{ matchLabels: { 'bad key': 'x' } }, 'invalid label key "bad key"'],
    ];
    for (const [sel, fragment] of cases) {
      const err = thrown(() => labelSelectorFromObject(sel));
      expect(err.status.code).toBe(400);
      expect(err.status.message).toContain(fragment);
    }
  });
});

describe('parseFieldSelector / matchesFields', () => {
  const supported = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'];
  const pod = { metadata: { name: 'p1', namespace: 'default' }, spec: { nodeName: 'node-a' }, status: { phase: 'Running' } };
  const unscheduled = { metadata: { name: 'p2', namespace: 'default' }, spec: {}, status: { phase: 'Pending' } };
  const matches = (text: string, obj: unknown) => matchesFields(parseFieldSelector(text, supported), obj);

  it('parses =, == and != terms', () => {
    expect(parseFieldSelector('metadata.name=p1, status.phase==Running,spec.nodeName!=x', supported)).toEqual([
      { field: 'metadata.name', operator: '=', value: 'p1' },
      { field: 'status.phase', operator: '=', value: 'Running' },
      { field: 'spec.nodeName', operator: '!=', value: 'x' },
    ]);
    expect(parseFieldSelector('', supported)).toEqual([]);
  });

  it('matches by dotted path and ANDs terms', () => {
    expect(matches('metadata.name=p1', pod)).toBe(true);
    expect(matches('metadata.name==p2', pod)).toBe(false);
    expect(matches('status.phase!=Succeeded,metadata.namespace=default', pod)).toBe(true);
    expect(matches('status.phase!=Running', pod)).toBe(false);
    expect(matches('metadata.namespace=default,spec.nodeName=node-b', pod)).toBe(false);
  });

  it('compares a missing value as the empty string', () => {
    expect(matches('spec.nodeName=', unscheduled)).toBe(true);
    expect(matches('spec.nodeName=', pod)).toBe(false);
    expect(matches('spec.nodeName!=', pod)).toBe(true);
    expect(matches('spec.nodeName!=', unscheduled)).toBe(false);
  });

  it('resolves nested paths such as involvedObject.uid', () => {
    const event = { involvedObject: { uid: 'u-1', kind: 'Pod' } };
    expect(matchesFields(parseFieldSelector('involvedObject.uid=u-1', ['involvedObject.uid']), event)).toBe(true);
    expect(matchesFields(parseFieldSelector('involvedObject.uid=u-2', ['involvedObject.uid']), event)).toBe(false);
  });

  it('rejects unknown fields with a 400 listing the supported ones', () => {
    const err = thrown(() => parseFieldSelector('spec.hostname=x', supported));
    expect(err.status.code).toBe(400);
    expect(err.status.message).toBe('"spec.hostname" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"');
  });

  it('rejects a term without an operator with a 400', () => {
    const err = thrown(() => parseFieldSelector('metadata.name', supported));
    expect(err.status.code).toBe(400);
    expect(err.status.message).toContain("can't understand 'metadata.name'");
  });
});
