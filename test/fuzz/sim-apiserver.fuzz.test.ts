/**
 * The simulated API server's parsers: merge, JSON and strategic-merge patches, label and
 * field selectors, and the URL and query of a request. Pure properties first (many cases):
 * never an exception other than the ApiError the server turns into a Status, never an
 * input mutated, a merge patch equal to RFC 7386's own algorithm (written here), label
 * selectors matching as the Kubernetes docs define them (written here). Then the same
 * inputs over HTTPS against a running server: any path, query, selector or patch body is
 * answered with a Status, never a 500 "Internal error", and the server keeps serving.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { parseRoute } from '../../sim/apiserver/http-routes.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../sim/apiserver/patch.js';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from '../../sim/apiserver/selectors.js';
import { ApiError } from '../../sim/apiserver/status.js';
import { request } from 'node:https';
import { apiRequest } from '../helpers/api-request.js';
import { checkAsyncProperty, checkProperty, fuzzTimeout } from './fuzz-config.js';

/** Runs `fn`; an ApiError is an answer, anything else thrown fails the property. */
function answerOf<T>(fn: () => T): T | ApiError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) {
      expect(err.status.code).toBeGreaterThanOrEqual(400);
      expect(err.status.code).toBeLessThan(500);
      return err;
    }
    throw err;
  }
}

// ---- patches ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const keyName = fc.oneof(fc.constantFrom('a', 'b', 'c', 'name', 'metadata', 'spec', 'containers', 'env', '$patch', '__proto__', 'constructor', '~', '/'), fc.string({ maxLength: 4 }));
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -5, max: 5 }),
    fc.constantFrom('x', 'y', '', 'delete', 'replace', 'merge'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(keyName, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** RFC 7386 §2, as the RFC writes it. */
function mergePatchOracle(target: Json | undefined, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, Json> = {};
  if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
    for (const [k, v] of Object.entries(target)) Object.defineProperty(out, k, { value: structuredClone(v), enumerable: true, writable: true, configurable: true });
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else Object.defineProperty(out, k, { value: mergePatchOracle(Object.hasOwn(out, k) ? out[k] : undefined, v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const pointer = fc.oneof(
  fc.array(fc.oneof(keyName, fc.constantFrom('0', '1', '-', '01', '~0', '~1', '~2', '')), { maxLength: 3 }).map((t) => (t.length ? `/${t.join('/')}` : '')),
  fc.string({ maxLength: 5 }),
);
const jsonPatchOp = fc.oneof(
  fc.record({ op: fc.constantFrom('add', 'replace', 'test'), path: pointer, value: json }),
  fc.record({ op: fc.constant('remove'), path: pointer }),
  fc.record({ op: fc.constantFrom('move', 'copy'), from: pointer, path: pointer }),
  json,
);

describe('patches (pure)', () => {
  it('a merge patch is RFC 7386, leaves its inputs alone and is idempotent', () => {
    checkProperty('merge patch', 3000, fc.property(json, json, (target, patch) => {
      const [t0, p0] = [structuredClone(target), structuredClone(patch)];
      const result = answerOf(() => applyMergePatch(target, patch));
      expect(target).toEqual(t0);
      expect(patch).toEqual(p0);
      expect(result).toEqual(mergePatchOracle(target, patch));
      expect(applyMergePatch(result, patch)).toEqual(result);
    }));
  });

  it('a JSON patch applies or answers 422, and leaves its inputs alone', () => {
    checkProperty('JSON patch', 3000, fc.property(json, fc.oneof(fc.array(jsonPatchOp, { maxLength: 4 }), json), (target, ops) => {
      const [t0, o0] = [structuredClone(target), structuredClone(ops)];
      const result = answerOf(() => applyJsonPatch(target, ops));
      expect(target).toEqual(t0);
      expect(ops).toEqual(o0);
      if (result instanceof ApiError) expect(result.status.code).toBe(422);
      // A patch that only tests a value the document has applies and changes nothing.
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        for (const [k, v] of Object.entries(target)) {
          const path = `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
          expect(applyJsonPatch(target, [{ op: 'test', path, value: v }])).toEqual(target);
        }
      }
    }));
  });

  it('a strategic merge patch applies or answers 4xx, and leaves its inputs alone', () => {
    const keyedList = fc.array(fc.oneof(fc.record({ name: fc.constantFrom('a', 'b', 'c'), image: fc.constantFrom('x', 'y') }), fc.record({ name: fc.constantFrom('a', 'b'), $patch: fc.constantFrom('delete', 'replace', 'merge') }), json), { maxLength: 3 });
    const podish = fc.record({ spec: fc.record({ containers: fc.oneof(keyedList, json) }, { requiredKeys: [] }), metadata: fc.oneof(json, fc.record({ labels: json, $patch: fc.constantFrom('replace', 'delete') }, { requiredKeys: [] })) }, { requiredKeys: [] });
    checkProperty('strategic merge patch', 2000, fc.property(fc.oneof(podish, json), fc.oneof(podish, json), (target, patch) => {
      const [t0, p0] = [structuredClone(target), structuredClone(patch)];
      answerOf(() => applyStrategicMergePatch(target, patch));
      expect(target).toEqual(t0);
      expect(patch).toEqual(p0);
    }));
  });
});

// ---- selectors ----

const labelKey = fc.constantFrom('app', 'tier', 'secrets-store.csi.k8s.io/managed', 'x.y/z', 'a1');
const labelValue = fc.constantFrom('', 'web', 'db', 'true', 'v1.2', 'a_b');
type Req = { key: string; op: 'eq' | 'ne' | 'in' | 'notin' | 'exists' | 'absent'; values: string[] };
const requirement: fc.Arbitrary<Req> = fc.record({ key: labelKey, op: fc.constantFrom('eq', 'ne', 'in', 'notin', 'exists', 'absent'), values: fc.array(labelValue.filter((v) => v !== ''), { minLength: 1, maxLength: 3 }) });
const ws = fc.constantFrom('', ' ', '  ');
/** The selector string, with the spellings and whitespace the syntax allows, and the value each `=`/`!=` compares with. */
const spelled = (reqs: Req[]) =>
  fc.tuple(...reqs.map(() => fc.tuple(ws, ws, fc.constantFrom('=', '=='), fc.boolean()))).map((spellings) => {
    const values: string[] = [];
    const text = reqs
      .map((r, i) => {
        const [a, b, eq, useEmpty] = spellings[i]!;
        const v = useEmpty && (r.op === 'eq' || r.op === 'ne') ? '' : r.values[0]!;
        values.push(v);
        switch (r.op) {
          case 'eq':
            return `${a}${r.key}${b}${eq}${b}${v}${a}`;
          case 'ne':
            return `${a}${r.key}${b}!=${b}${v}`;
          case 'in':
          case 'notin':
            return `${r.key} ${r.op}${b}(${a}${r.values.join(`${b},${a}`)}${b})`;
          case 'exists':
            return `${a}${r.key}${a}`;
          case 'absent':
            return `!${r.key}${b}`;
        }
      })
      .join(',');
    return { text, values };
  });
/** What a label selector means (Kubernetes docs, "Labels and Selectors"); `values[i]` is what requirement i's `=`/`!=` compares with. */
function selects(reqs: Req[], values: string[], labels: Record<string, string>): boolean {
  return reqs.every((r, i) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'eq':
        return has && labels[r.key] === values[i];
      case 'ne':
        return !has || labels[r.key] !== values[i];
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
      case 'exists':
        return has;
      case 'absent':
        return !has;
    }
  });
}

describe('selectors (pure)', () => {
  it('any text parses to a selector or answers 400', () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.constantFrom('app', '=', '==', '!=', '!', ',', '(', ')', 'in', 'notin', ' ', 'x', 'a/b', '-', '.', '', 'é'), { maxLength: 10 }).map((t) => t.join('')));
    checkProperty('label selector text', 3000, fc.property(text, (t) => {
      const r = answerOf(() => parseLabelSelector(t));
      if (r instanceof ApiError) expect(r.status.message).toMatch(/^unable to parse requirement: /);
    }));
    checkProperty('field selector text', 2000, fc.property(text, (t) => {
      answerOf(() => parseFieldSelector(t, ['metadata.name', 'metadata.namespace', 'spec.nodeName']));
    }));
  });

  it('a selector written in any allowed spelling matches as the docs define', () => {
    const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 5 });
    checkProperty('label selector semantics', 3000, fc.property(fc.array(requirement, { maxLength: 4 }).chain((reqs) => fc.tuple(fc.constant(reqs), spelled(reqs), fc.array(labels, { minLength: 1, maxLength: 4 }))), ([reqs, { text, values }, labelSets]) => {
      const selector = parseLabelSelector(text);
      for (const l of labelSets) expect(matchesLabels(selector, l), `${text} on ${JSON.stringify(l)}`).toBe(selects(reqs, values, l));
    }));
  });
});

// ---- URLs and queries ----

const segmentText = fc.oneof(
  fc.constantFrom('api', 'apis', 'v1', 'v1alpha1', 'namespaces', 'default', 'kube-system', 'pods', 'secrets', 'events', 'secretproviderclasses', 'secretproviderclasspodstatuses', 'secrets-store.csi.x-k8s.io', 'apps', 'deployments', 'status', 'scale', 'x', '%2F', '%E0%A4%A', '%', '%zz', '..', '.'),
  fc.string({ minLength: 1, maxLength: 5 }).map(encodeURIComponent),
);
const path = fc.array(segmentText, { minLength: 1, maxLength: 7 }).map((s) => `/${s.join('/')}`);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');
const queryValue = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('true', '1', '0', '-1', '1e309', 'NaN', '', 'app=web', 'app in (a,b)', 'metadata.name=x', 'spec.nodeName!=n', '99999999999999999999'));
const query = fc.dictionary(fc.constantFrom('watch', 'labelSelector', 'fieldSelector', 'resourceVersion', 'timeoutSeconds', 'gracePeriodSeconds', 'propagationPolicy', 'dryRun', 'limit', 'allowWatchBookmarks'), queryValue, { maxKeys: 4 });

describe('routes (pure)', () => {
  it('any URL is a route, not ours (undefined), or a 4xx Status', () => {
    checkProperty('route parsing', 3000, fc.property(method, path, query, (m, p, q) => {
      answerOf(() => parseRoute(m, p, new URLSearchParams(q)));
    }));
  });
});

// ---- over HTTPS ----

let api: StartedSimApiServer;
beforeAll(async () => {
  api = await new SimApiServer().start();
});
afterAll(async () => {
  await api?.stop();
});

const contentType = fc.constantFrom('application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'text/plain', 'application/strategic-merge-patch+json; charset=utf-8');
const body = fc.oneof(json.map((j) => JSON.stringify(j)), fc.string({ maxLength: 20 }), fc.record({ metadata: json, spec: json, data: json, kind: fc.constantFrom('Secret', 'Pod', 'x') }, { requiredKeys: [] }).map((j) => JSON.stringify(j)));

/** The status of a GET, without waiting for its body (a watch streams until it times out). */
function statusLine(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${url}`, { ca: api.ca, agent: false, headers: { authorization: `Bearer ${api.adminToken}` } }, (res) => {
      resolve(res.statusCode ?? 0);
      res.on('error', () => undefined);
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the API server over HTTPS', () => {
  const healthy = async () => expect((await apiRequest(api, 'GET', '/healthz')).status).toBe(200);

  it('answers any request line, query and body with a Status, never a 500', { timeout: fuzzTimeout(300, 100) }, async () => {
    let n = 0;
    await checkAsyncProperty('API server requests over HTTPS', 300, fc.asyncProperty(method, path, query, fc.option(fc.tuple(body, contentType), { nil: undefined }), async (m, p, q, b) => {
      const url = `${p}${Object.keys(q).length ? `?${new URLSearchParams(q)}` : ''}`;
      if (m === 'GET' && (q.watch === 'true' || q.watch === '1')) {
        // A watch that starts streams until it times out: its status line is the answer.
        expect(await statusLine(url), `${m} ${url}`).not.toBe(500);
        return;
      }
      // (Node's client cannot send a HEAD with a body and read the answer: no body on HEAD.)
      const r = await apiRequest(api, m, url, b && m !== 'HEAD' ? { body: b[0], contentType: b[1] } : {});
      expect(r.status, `${m} ${url} ${b?.[0] ?? ''} → ${r.text.slice(0, 300)}`).not.toBe(500);
      if (++n % 50 === 0) await healthy();
    }));
    await healthy();
  });

  it('creates, replaces, patches and deletes with any body, content type and options, never a 500', { timeout: fuzzTimeout(300, 150) }, async () => {
    let n = 0;
    await checkAsyncProperty('API server create, update, patch and delete over HTTPS', 300, fc.asyncProperty(fc.constantFrom('secrets', 'pods', 'secretproviderclasses'), body, body, contentType, query, async (kind, patch, other, type, q) => {
      const name = `fuzz-${n++}`;
      const base = kind === 'secretproviderclasses' ? '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses' : `/api/v1/namespaces/default/${kind}`;
      const created = await apiRequest(api, 'POST', base, { body: { metadata: { name }, ...(kind === 'pods' ? { spec: { containers: [{ name: 'c', image: 'x' }] } } : {}) } });
      expect(created.status, created.text).toBe(201);
      for (const [m, url] of [['POST', base], ['PUT', `${base}/${name}`]] as const) {
        const r = await apiRequest(api, m, url, { body: other });
        expect(r.status, `${m} ${other} → ${r.text.slice(0, 300)}`).not.toBe(500);
        if (m === 'POST' && r.status === 201) await apiRequest(api, 'DELETE', `${base}/${r.body.metadata.name}?gracePeriodSeconds=0`);
      }
      const patched = await apiRequest(api, 'PATCH', `${base}/${name}`, { body: patch, contentType: type });
      expect(patched.status, `PATCH ${type} ${patch} → ${patched.text.slice(0, 300)}`).not.toBe(500);
      const listed = await apiRequest(api, 'GET', base);
      expect(listed.status, listed.text.slice(0, 300)).toBe(200);
      const deleted = await apiRequest(api, 'DELETE', `${base}/${name}?${new URLSearchParams(q)}`);
      expect(deleted.status, `DELETE ?${new URLSearchParams(q)} → ${deleted.text.slice(0, 300)}`).not.toBe(500);
      // Whatever happened, the object can be removed for good.
      await apiRequest(api, 'DELETE', `${base}/${name}?gracePeriodSeconds=0`);
    }));
    await healthy();
  });
});
