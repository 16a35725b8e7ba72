/**
 * The sim-fidelity test's pure parts, in-process: what normalisation takes out (and what it
 * keeps), how differences read, and how the allow-list judges them — stale entries included.
 */
import { describe, expect, it } from 'vitest';
import type { AllowEntry } from '../../cluster/fidelity/allow-list.js';
import { differences, jsonDifferences } from '../../cluster/fidelity/compare.js';
import { dropPath, normaliseObject, normaliseText, type Json } from '../../cluster/fidelity/normalise.js';
import type { StepResult } from '../../cluster/fidelity/runner.js';
import { judge } from '../../cluster/fidelity/verdict.js';

const ctx = { replace: [['/tmp/abc/sim', '<dir>']] as Array<[string, string]>, generatedNames: ['api'] };

describe('normalisation', () => {
  it('takes out what a server makes up and where a side lives, in text', () => {
    const text = [
      'NAME          READY   STATUS    AGE',
      'api-7d4b9c8f6-x2kq9   1/1     Running   12s',
      'uid 0d9a3c1e-1b2c-4d5e-8f90-123456789abc at 2026-12-06T00:15:24Z, 2m3s later',
      'resourceVersion: "345" server https://127.0.0.1:43865 file /tmp/abc/sim/x.yaml',
      'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    ].join('\n');
    expect(normaliseText(text, ctx).split('\n')).toEqual([
      'NAME  READY  STATUS  AGE',
      'api-<rs>-<pod>  1/1  Running  <age>',
      'uid <uid> at <time>, <age> later',
      'resourceVersion: "<rv>" server <server> file <dir>/x.yaml',
      'token <jwt>',
    ]);
  });

  it('drops client-go reflector log lines, keeps the error', () => {
    const stderr = 'E1206 00:44:09.997646   25217 reflector.go:205] "Failed to watch" err="context deadline exceeded"\nerror: timed out waiting for the condition on secrets/held';
    expect(normaliseText(stderr, ctx)).toBe('error: timed out waiting for the condition on secrets/held');
  });

  it('keeps what a user relies on: names, counts, durations inside words', () => {
    expect(normaliseText('deployment.apps/api scaled --timeout=30s 1/1 api-secret', ctx)).toBe('deployment.apps/api scaled --timeout=30s 1/1 api-secret');
  });

  it('replaces made-up values in objects but keeps their presence, and drops a Pod status', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-7d4b9c8f6-x2kq9', uid: 'x', resourceVersion: '9', labels: { 'pod-template-hash': '7d4b9c8f6' } }, spec: { nodeName: 'n', containers: [] }, status: { phase: 'Running' } };
    expect(normaliseObject(pod, ctx)).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-<rs>-<pod>', uid: '<uid>', resourceVersion: '<rv>', labels: { 'pod-template-hash': '<hash>' } }, spec: { containers: [] } });
    expect(normaliseObject({ metadata: { _continue: 'abc', resourceVersion: '' } }, ctx)).toEqual({ metadata: { _continue: '<continue>', resourceVersion: '' } });
  });

  it('drops a documented path, through lists', () => {
    const list = { items: [{ status: 1, spec: 2 }, { status: 3 }] } as unknown as Json;
    dropPath(list, '.items[].status');
    expect(list).toEqual({ items: [{ spec: 2 }, {}] });
  });
});

describe('differences', () => {
  it('name each differing path of objects, absent fields included', () => {
    expect(jsonDifferences({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3], d: 'x' } })).toEqual(['.b.c[1]: sim 2, real 3', '.b.d: sim (absent), real "x"']);
  });

  it('compare exit codes, stderr and stdout lines', () => {
    expect(differences({ exitCode: 1, stderr: 'e', stdout: { text: 'a' } }, { exitCode: 0, stderr: '', stdout: { text: 'a' } })).toEqual(['exit code: sim 1, real 0', 'stderr line 1: sim "e", real ""']);
  });
});

describe('the allow-list verdicts', () => {
  const result = (id: string, diffs: string[]) => ({ step: { id }, differences: diffs }) as unknown as StepResult;
  const entry = (id: string, differences?: RegExp[]): AllowEntry => ({ id, kind: 'open', reason: 'because', ...(differences ? { differences } : {}) });

  it('same, allowed, DIFFERENT and STALE', () => {
    const j = judge(
      [result('a', []), result('b', ['x: 1', 'y: 2']), result('c', ['x: 1', 'z: 3']), result('d', []), result('e', ['x: 1'])],
      [entry('b', [/^x/]), entry('b', [/^y/]), entry('c', [/^x/]), entry('d'), entry('e', [/^x/]), entry('e', [/^y/]), entry('nope')],
    );
    expect(j.judged.map((x) => x.verdict)).toEqual(['same', 'allowed', 'DIFFERENT', 'STALE', 'STALE']);
    expect(j.judged[2]!.unexplained).toEqual(['z: 3']);
    expect(j.judged[4]!.stale.map((e) => e.differences?.[0]?.source)).toEqual(['^y']);
    expect(j.unknownEntries.map((e) => e.id)).toEqual(['nope']);
    expect(j.failures.map((f) => f.result.step.id)).toEqual(['c', 'd', 'e']);
  });
});
