/**
 * What a conformance check is and how a kit runs them. A check has a stable id (what
 * `--only` takes and JUnit names), a group, a title that states the rule, and a verdict
 * with the evidence a user needs to believe it: what was sent, what came back. Checks run
 * in order and independently; one failing never hides the others.
 */
export interface CheckDef<Ctx> {
  id: string;
  group: string;
  title: string;
  run(ctx: Ctx): Promise<Verdict>;
}

export type Verdict =
  | { result: 'passed'; evidence: string; figures?: Record<string, string | number> }
  | { result: 'failed'; evidence: string; expected?: unknown; seen?: unknown; figures?: Record<string, string | number> }
  | { result: 'skipped'; reason: string };

export const pass = (evidence: string, figures?: Record<string, string | number>): Verdict => ({ result: 'passed', evidence, ...(figures ? { figures } : {}) });
export const skip = (reason: string): Verdict => ({ result: 'skipped', reason });

/** Thrown inside a check to fail it with evidence (the runner turns it into the verdict). */
export class CheckFailed extends Error {
  constructor(
    readonly evidence: string,
    readonly expected?: unknown,
    readonly seen?: unknown,
  ) {
    super(evidence);
    this.name = 'CheckFailed';
  }
}

export function fail(evidence: string, expected?: unknown, seen?: unknown): never {
  throw new CheckFailed(evidence, expected, seen);
}

/** Fails the check with `evidence` unless `ok`. */
export function expect(ok: boolean, evidence: string, expected?: unknown, seen?: unknown): asserts ok {
  if (!ok) fail(evidence, expected, seen);
}

export interface CheckResult {
  id: string;
  group: string;
  title: string;
  result: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  /** What was seen: why it passed or failed. */
  evidence: string;
  expected?: unknown;
  seen?: unknown;
  skipReason?: string;
  figures: Record<string, string | number>;
}

export interface KitResult {
  kit: 'provider' | 'driver';
  /** What was checked (a socket, an endpoint, a binary). */
  target: string;
  startedAt: string;
  durationMs: number;
  passed: boolean;
  /** Stopped by a signal: the checks not run are skipped, and the kit did not pass. */
  interrupted?: boolean;
  checks: CheckResult[];
}

export interface RunChecksOptions {
  kit: KitResult['kit'];
  target: string;
  only?: readonly string[] | undefined;
  /** Progress lines as checks finish. */
  out?: NodeJS.WritableStream;
  /** When aborted (Ctrl-C), the check running finishes and the rest are skipped. */
  signal?: AbortSignal | undefined;
}

export const interrupted = 'interrupted before this check ran';

const oneLine = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s).replace(/\n/g, ' ');

export async function runChecks<Ctx>(checks: ReadonlyArray<CheckDef<Ctx>>, ctx: Ctx, options: RunChecksOptions): Promise<KitResult> {
  const started = Date.now();
  const out = options.out;
  const results: CheckResult[] = [];
  for (const check of checks) {
    const base = { id: check.id, group: check.group, title: check.title };
    if (options.only && !options.only.includes(check.id)) continue;
    if (options.signal?.aborted) {
      results.push({ ...base, result: 'skipped', durationMs: 0, evidence: interrupted, skipReason: interrupted, figures: {} });
      continue;
    }
    const t = performance.now();
    let verdict: Verdict;
    try {
      verdict = await check.run(ctx);
    } catch (err) {
      verdict =
        err instanceof CheckFailed
          ? { result: 'failed', evidence: err.evidence, expected: err.expected, seen: err.seen }
          : { result: 'failed', evidence: `the check itself failed: ${(err as Error).message}` };
    }
    const durationMs = performance.now() - t;
    const result: CheckResult =
      verdict.result === 'skipped'
        ? { ...base, result: 'skipped', durationMs, evidence: verdict.reason, skipReason: verdict.reason, figures: {} }
        : {
            ...base,
            result: verdict.result,
            durationMs,
            evidence: verdict.evidence,
            figures: verdict.figures ?? {},
            ...(verdict.result === 'failed' && verdict.expected !== undefined ? { expected: verdict.expected } : {}),
            ...(verdict.result === 'failed' && verdict.seen !== undefined ? { seen: verdict.seen } : {}),
          };
    results.push(result);
    const mark = result.result === 'passed' ? '✓' : result.result === 'failed' ? '✗' : '-';
    out?.write(`  ${mark} ${check.id} (${Math.round(durationMs)} ms): ${oneLine(result.evidence)}\n`);
  }
  return {
    kit: options.kit,
    target: options.target,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    passed: !options.signal?.aborted && results.every((r) => r.result !== 'failed'),
    ...(options.signal?.aborted ? { interrupted: true } : {}),
    checks: results,
  };
}
