/**
 * Fault injection for the simulated API server: fail the next N matching requests, or a
 * fraction of them, with a given code (the Status a real cause would give), or delay them;
 * and a rate mode (`setRandom`) that fails a share of one identity's requests with a mix
 * of the faults a busy real API server gives — 409, 429 with Retry-After, 500, 503, and
 * latency — counting each kind it injected.
 */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface FaultRule {
  verb: Verb | '*';
  resource: string | '*';
  namespace?: string;
  name?: string;
  /** HTTP code to answer with (403, 404, 409, 429, 500, 503); absent for latency only. */
  code?: number;
  /** Fail the next N matching requests, then the rule expires. */
  count?: number;
  /** Fail this share (0..1) of matching requests. */
  fraction?: number;
  latencyMs?: number;
  retryAfterSeconds?: number;
}

export interface RequestKey {
  verb: Verb;
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
  /** The authenticated user's name (e.g. `system:serviceaccount:kube-system:secrets-store-csi-driver`). */
  user?: string | undefined;
}

/** The rate mode: `rate` (0..1) of `user`'s requests meet one fault, its kind drawn evenly. */
export interface RandomFaults {
  user: string;
  rate: number;
  /** Delay of a latency fault; default 200 ms. */
  latencyMs?: number;
  /** Retry-After of a 429; default 1 s. */
  retryAfterSeconds?: number;
  /** Random source in [0, 1); default Math.random. */
  random?: () => number;
}

export type FaultKind = '409' | '429' | '500' | '503' | 'latency';
export const faultKinds: readonly FaultKind[] = ['409', '429', '500', '503', 'latency'];

/** How many faults of each kind the rate mode injected. */
export type FaultCounts = Record<FaultKind, number>;

/** A conflict means something only where the request writes an object that exists or may. */
const conflictVerbs: ReadonlySet<Verb> = new Set(['create', 'update', 'patch']);

export const noFaults = (): FaultCounts => ({ '409': 0, '429': 0, '500': 0, '503': 0, latency: 0 });

export class ApiFaults {
  private rules: FaultRule[] = [];
  private random: Required<RandomFaults> | undefined;
  private counts = noFaults();

  add(rule: FaultRule): void {
    if (rule.fraction !== undefined && (rule.fraction < 0 || rule.fraction > 1)) throw new Error('fraction must be within 0..1');
    if (rule.count !== undefined && (!Number.isInteger(rule.count) || rule.count < 1)) throw new Error('count must be a positive whole number');
    this.rules.push({ ...rule });
  }

  /** Starts (or replaces) the rate mode; a rate of 0 stops it. Counts are kept. */
  setRandom(spec: RandomFaults): void {
    if (!(spec.rate >= 0 && spec.rate <= 1)) throw new Error(`the fault rate must be within 0..1, got ${spec.rate}`);
    this.random = spec.rate === 0 ? undefined : { latencyMs: 200, retryAfterSeconds: 1, random: Math.random, ...spec };
  }

  /** The faults the rate mode injected so far, by kind. */
  injected(): FaultCounts {
    return { ...this.counts };
  }

  /** Clears the rules and the rate mode (not the counts). */
  clear(): void {
    this.rules = [];
    this.random = undefined;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The rule that applies to this request, if any (consuming one of its count). */
  match(req: RequestKey): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.verb !== '*' && rule.verb !== req.verb) continue;
      if (rule.resource !== '*' && rule.resource !== req.resource) continue;
      if (rule.namespace !== undefined && rule.namespace !== req.namespace) continue;
      if (rule.name !== undefined && rule.name !== req.name) continue;
      if (rule.fraction !== undefined && Math.random() >= rule.fraction) continue;
      if (rule.count !== undefined && --rule.count <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      return rule;
    }
    return this.randomFault(req);
  }

  private randomFault(req: RequestKey): FaultRule | undefined {
    const r = this.random;
    if (!r || req.user !== r.user || r.random() >= r.rate) return undefined;
    const kinds = conflictVerbs.has(req.verb) ? faultKinds : faultKinds.filter((k) => k !== '409');
    const kind = kinds[Math.min(kinds.length - 1, Math.floor(r.random() * kinds.length))]!;
    this.counts[kind]++;
    const base = { verb: req.verb, resource: req.resource };
    if (kind === 'latency') return { ...base, latencyMs: r.latencyMs };
    return { ...base, code: Number(kind), ...(kind === '429' ? { retryAfterSeconds: r.retryAfterSeconds } : {}) };
  }
}
