/**
 * Label and field selectors as the Kubernetes API evaluates them on list and watch.
 *
 * Contract:
 * - `parseLabelSelector(text)` reads the string syntax: comma-separated requirements
 *   `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist);
 *   whitespace is tolerated, `""` matches everything. Keys are qualified names with an optional
 *   DNS-subdomain prefix (`secrets-store.csi.k8s.io/managed`). Malformed input throws a 400
 *   ApiError whose message starts with `unable to parse requirement: `.
 * - `labelSelectorFromObject(sel)` converts the metav1.LabelSelector form (matchLabels plus
 *   matchExpressions); `{}` matches everything; invalid input throws a 400 ApiError.
 * - `matchesLabels` ANDs the requirements; `!=`/`notin`/`!k` match objects lacking the label.
 * - `parseFieldSelector(text, supported)` reads `f=v`, `f==v`, `f!=v`, comma-separated; a field
 *   outside `supported` throws 400. `matchesFields` resolves each field as a dotted path on the
 *   object; a missing (or non-scalar) value compares as `""`.
 * All functions are pure.
 */
import { statusError } from './status.js';

export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}
/** Requirements, all of which must hold; empty matches everything. */
export type LabelSelector = readonly LabelRequirement[];

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}
/** Requirements, all of which must hold; empty matches everything. */
export type FieldSelector = readonly FieldRequirement[];

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

const namePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key, or undefined when it is. */
function badKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) return `invalid label key "${key}": prefix must be a DNS subdomain`;
  if (name.length > 63 || !namePart.test(name)) return `invalid label key "${key}": name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is. */
function badValue(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && namePart.test(value))) return undefined;
  return `invalid label value "${value}": must be empty or 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
}

type Token = { t: 'id' | ',' | '(' | ')' | '!' | '=' | '!=' | 'end'; v: string };

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const emit = (t: Token['t'], n: number) => {
    tokens.push({ t, v: text.slice(i, i + n) });
    i += n;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '!' && text[i + 1] === '=') emit('!=', 2);
    else if (c === '=') emit('=', text[i + 1] === '=' ? 2 : 1);
    else if (',()!'.includes(c)) emit(c as Token['t'], 1);
    else {
      let j = i;
      while (j < text.length && !/[\s,()=!]/.test(text[j]!)) j++;
      emit('id', j - i);
    }
  }
  tokens.push({ t: 'end', v: '' });
  return tokens;
}

export function parseLabelSelector(text: string): LabelSelector {
  const tokens = lex(text);
  let p = 0;
  const peek = () => tokens[p]!;
  const next = () => tokens[p++]!;
  const fail = (msg: string) => statusError(400, `unable to parse requirement: ${msg}`);
  const found = (t: Token, expected: string) => fail(`found '${t.t === 'end' ? '' : t.v}', expected: ${expected}`);
  const key = (t: Token) => {
    if (t.t !== 'id') throw found(t, 'identifier');
    const bad = badKey(t.v);
    if (bad) throw fail(bad);
    return t.v;
  };
  const value = (v: string) => {
    const bad = badValue(v);
    if (bad) throw fail(bad);
    return v;
  };

  const requirement = (): LabelRequirement => {
    const first = next();
    if (first.t === '!') return { key: key(next()), operator: 'DoesNotExist', values: [] };
    const k = key(first);
    const op = peek();
    if (op.t === ',' || op.t === 'end') return { key: k, operator: 'Exists', values: [] };
    next();
    if (op.t === '=' || op.t === '!=') {
      const t = peek();
      if (t.t !== 'id' && t.t !== ',' && t.t !== 'end') throw found(t, 'identifier');
      const v = t.t === 'id' ? next().v : '';
      return { key: k, operator: op.t === '=' ? 'In' : 'NotIn', values: [value(v)] };
    }
    if (op.t !== 'id' || (op.v !== 'in' && op.v !== 'notin')) throw found(op, "'=', '==', '!=', 'in', 'notin', ',' or end of string");
    if (next().t !== '(') throw found(tokens[p - 1]!, `'(' after '${op.v}'`);
    const values: string[] = [];
    let t = next();
    if (t.t === ')') throw fail(`for 'in', 'notin' operators, values set can't be empty`);
    for (;;) {
      if (t.t !== 'id') throw found(t, 'value');
      values.push(value(t.v));
      t = next();
      if (t.t === ')') break;
      if (t.t !== ',') throw found(t, "',' or ')'");
      t = next();
    }
    return { key: k, operator: op.v === 'in' ? 'In' : 'NotIn', values };
  };

  const requirements: LabelRequirement[] = [];
  if (peek().t === 'end') return requirements;
  for (;;) {
    requirements.push(requirement());
    const t = next();
    if (t.t === 'end') return requirements;
    if (t.t !== ',') throw found(t, "',' or end of string");
  }
}

export function labelSelectorFromObject(sel: LabelSelectorObject): LabelSelector {
  const fail = (msg: string) => statusError(400, `invalid label selector: ${msg}`);
  const check = (bad: string | undefined) => {
    if (bad) throw fail(bad);
  };
  const requirements: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    check(badKey(k));
    check(badValue(v));
    requirements.push({ key: k, operator: 'In', values: [v] });
  }
  for (const e of sel.matchExpressions ?? []) {
    check(badKey(e.key));
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) throw fail(`values must be non-empty for operator ${e.operator} (key "${e.key}")`);
      values.forEach((v) => check(badValue(v)));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) throw fail(`values must be empty for operator ${e.operator} (key "${e.key}")`);
    } else throw fail(`"${String(e.operator)}" is not a valid label selector operator`);
    requirements.push({ key: e.key, operator: e.operator, values: [...values] });
  }
  return requirements;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  return selector.every((r) => {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    switch (r.operator) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'In':
        return has && r.values.includes(labels[r.key]!);
      case 'NotIn':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}

export function parseFieldSelector(text: string, supported: string[]): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const m = /!=|==|=/.exec(term);
    if (!m) throw statusError(400, `invalid selector: '${text}'; can't understand '${term}'`);
    const field = term.slice(0, m.index).trim();
    if (!supported.includes(field)) throw statusError(400, `"${field}" is not a known field selector: only "${supported.join('", "')}"`);
    requirements.push({ field, operator: m[0] === '!=' ? '!=' : '=', value: term.slice(m.index + m[0].length).trim() });
  }
  return requirements;
}

/** The value at dotted `path` as a field selector sees it: scalars as strings, anything else `""`. */
function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean' ? String(cur) : '';
}

export function matchesFields(selector: FieldSelector, obj: unknown): boolean {
  return selector.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === '='));
}
