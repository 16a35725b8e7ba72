/**
 * Fault injection for the simulated API server: fail the next N matching requests, or a
 * fraction of them, with a given code (the Status a real cause would give), or delay them.
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
}

export class ApiFaults {
  private rules: FaultRule[] = [];

  add(rule: FaultRule): void {
    if (rule.fraction !== undefined && (rule.fraction < 0 || rule.fraction > 1)) throw new Error('fraction must be within 0..1');
    if (rule.count !== undefined && (!Number.isInteger(rule.count) || rule.count < 1)) throw new Error('count must be a positive whole number');
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
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
    return undefined;
  }
}
