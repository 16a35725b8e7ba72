/**
 * What two API servers may legitimately answer differently, taken out before comparing: the
 * values a server makes up (uids, timestamps, resourceVersions, ages, generated names, tokens,
 * continue tokens) and where each side lives (its URL, its temp dir). Every rule is here, named,
 * so the README can list them; everything else is compared byte for byte.
 *
 * Text (stdout and stderr of every command):
 *   - UUIDs → `<uid>`; RFC 3339 times → `<time>`; `resourceVersion` values → `<rv>`
 *   - ages in tables (`5s`, `2m3s`, `4h`) → `<age>`
 *   - JWTs (`eyJ…`) → `<jwt>`; the ServiceAccount admission's volume `kube-api-access-xxxxx` → `kube-api-access-<suffix>`
 *   - the API server's address (`https://127.0.0.1:PORT`) → `<server>`, the side's temp dir → `<dir>`
 *   - client-go's klog lines about its watches (`reflector.go`: "very short watch", "Failed to
 *     watch … context deadline exceeded") are dropped: kubectl wait logs them or not by how its
 *     deadline falls against the watch (seen intermittently against the sim only; README)
 *   - runs of 2+ spaces → 2 spaces (table columns widen with their widest cell, e.g. an age)
 *   - the step's generated names (`NAME-<hash>` ReplicaSets, `NAME-<hash>-<suffix>` pods) →
 *     `NAME-<rs>` / `NAME-<rs>-<pod>` (the pod-template-hash is the server's own FNV of the template)
 * Objects (`-o json|yaml` and the client calls' answers), after the text rules on every string:
 *   - `uid`, `resourceVersion`, `continue` values anywhere → placeholders (their presence is still compared)
 *   - the `pod-template-hash` label value → `<hash>`
 *   - Pods: `status` and `spec.nodeName` dropped — the sim's scheduler and kubelet run pods,
 *     the real side has neither (Pending forever); a pod's spec is compared in full
 */

export interface NormaliseContext {
  /** Literal strings to replace (the side's server URL → `<server>`, its temp dir → `<dir>`). */
  replace: Array<[string, string]>;
  /** Names whose generated children are normalised (a Deployment's name). */
  generatedNames?: readonly string[];
}

const uuid = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
const rfc3339 = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g;
const age = /(?<=^|\s)(?:\d+[dhms]){1,2}(?=\s|$)/gm;
const jwt = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
const rvText = /(resourceVersion["']?\s*[:=]\s*["']?)\d+/g;
const loopbackUrl = /https:\/\/127\.0\.0\.1:\d+/g;
// The real server draws generated suffixes from `bcdfghjklmnpqrstvwxz2456789`; the sim's are hex. Both are names it makes up.
const nameChars = '[a-z0-9]';
const apiAccessVolume = /\bkube-api-access-[a-z0-9]{5}\b/g;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const reflectorLog = /^[IWE]\d{4} [\d:.]+\s+\d+ reflector\.go:\d+\].*(?:\n|$)/gm;

export function normaliseText(text: string, ctx: NormaliseContext): string {
  let out = text.replace(reflectorLog, '');
  for (const [from, to] of ctx.replace) if (from) out = out.split(from).join(to);
  for (const name of ctx.generatedNames ?? []) {
    // A pod-template-hash has a digit (the real one is a number's digits mapped to `456789bcdf`;
    // the sim's is hex): so `api-secret` stays a name.
    const re = new RegExp(`\\b${escapeRe(name)}-(?=${nameChars}*\\d)${nameChars}{5,10}(?:-${nameChars}{5})?\\b`, 'g');
    out = out.replace(re, (m) => (m.split('-').length - name.split('-').length === 2 ? `${name}-<rs>-<pod>` : `${name}-<rs>`));
  }
  return out
    .replace(apiAccessVolume, 'kube-api-access-<suffix>')
    .replace(loopbackUrl, '<server>')
    .replace(uuid, '<uid>')
    .replace(rfc3339, '<time>')
    .replace(jwt, '<jwt>')
    .replace(rvText, '$1<rv>')
    .replace(age, '<age>')
    .replace(/ {2,}/g, '  ')
    .replace(/ +$/gm, '');
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// `_continue`: client-node's name for a list's `continue`.
const placeholderKeys: Record<string, string> = { uid: '<uid>', resourceVersion: '<rv>', continue: '<continue>', _continue: '<continue>' };

/** A deep copy of `value` with the object rules above applied. */
export function normaliseObject(value: unknown, ctx: NormaliseContext): Json {
  const walk = (v: unknown, key: string | undefined): Json => {
    if (typeof v === 'string') {
      if (key && placeholderKeys[key] && v !== '') return placeholderKeys[key]!;
      if (key === 'pod-template-hash') return '<hash>';
      return normaliseText(v, ctx);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const out: Record<string, Json> = {};
      const isPod = o.kind === 'Pod' && typeof o.apiVersion === 'string' && o.apiVersion === 'v1';
      for (const [k, x] of Object.entries(o)) {
        if (isPod && k === 'status') continue;
        const nk = normaliseText(k, { replace: [], ...(ctx.generatedNames ? { generatedNames: ctx.generatedNames } : {}) });
        out[nk] = walk(x, k);
      }
      if (isPod && out.spec && typeof out.spec === 'object' && !Array.isArray(out.spec)) delete (out.spec as Record<string, Json>).nodeName;
      return out;
    }
    return (v ?? null) as Json;
  };
  return walk(value, undefined);
}

/** Removes the value at a dotted path (`.status`, `.items[].status`) — a step's documented ignore. */
export function dropPath(value: Json, path: string): void {
  const parts = path.replace(/^\./, '').split('.');
  const go = (v: Json, i: number): void => {
    if (v === null || typeof v !== 'object') return;
    let part = parts[i]!;
    const each = part.endsWith('[]');
    if (each) part = part.slice(0, -2);
    const obj = v as Record<string, Json>;
    if (!(part in obj)) return;
    if (i === parts.length - 1 && !each) {
      delete obj[part];
      return;
    }
    const next = obj[part]!;
    if (each) {
      if (Array.isArray(next)) for (const item of next) (i === parts.length - 1 ? undefined : go(item, i + 1));
    } else go(next, i + 1);
  };
  go(value, 0);
}

export type { Json };
