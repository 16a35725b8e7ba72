/**
 * What a conformance check is and how a kit runs them. A check has a stable id (what
 * `--only` takes and JUnit names), a group, a title that states the rule, and a verdict
 * with the evidence a user needs to believe it: what was sent, what came back. Checks run
 * in order and independently; one failing never hides the others.
 *
 * A check of behaviour the reference (upstream's driver v1.6) does not have says why in
 * `beyondUpstream`: failing it means the driver lacks an extension, not that it breaks the
 * contract. The kit's verdict is "conforms" when every other check passes.
 */
export interface CheckDef<Ctx> {
  id: string;
  group: string;
  title: string;
  /** Why upstream v1.6 does not have this behaviour; absent for the contract itself. */
  beyondUpstream?: string;
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
  /** The check is of an extension upstream v1.6 does not have, and why. */
  beyondUpstream?: string;
}

/** What the kit concludes about the target. */
export interface KitVerdict {
  /** Every check of the contract (not beyond upstream) passed. */
  conforms: boolean;
  /** Contract checks that failed. */
  failed: string[];
  /** Beyond-upstream checks that failed: the extensions the target lacks, each with its reason. */
  extensionsLacked: Array<{ id: string; beyondUpstream: string }>;
}

export interface KitResult {
  kit: 'provider' | 'driver';
  /** What was checked (a socket, an endpoint, a binary). */
  target: string;
  startedAt: string;
  durationMs: number;
  /** Every check passed, extensions included. */
  passed: boolean;
  verdict: KitVerdict;
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
    const base = { id: check.id, group: check.group, title: check.title, ...(check.beyondUpstream ? { beyondUpstream: check.beyondUpstream } : {}) };
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
  const aborted = options.signal?.aborted === true;
  return {
    kit: options.kit,
    target: options.target,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    passed: !aborted && results.every((r) => r.result !== 'failed'),
    verdict: verdictOf(results, aborted),
    ...(options.signal?.aborted ? { interrupted: true } : {}),
    checks: results,
  };
}

/** Conforms when no contract check failed (and the run was not interrupted); failed extensions are listed apart. */
export function verdictOf(results: readonly CheckResult[], aborted = false): KitVerdict {
  const failed = results.filter((r) => r.result === 'failed');
  return {
    conforms: !aborted && failed.every((r) => r.beyondUpstream !== undefined),
    failed: failed.filter((r) => r.beyondUpstream === undefined).map((r) => r.id),
    extensionsLacked: failed.flatMap((r) => (r.beyondUpstream !== undefined ? [{ id: r.id, beyondUpstream: r.beyondUpstream }] : [])),
  };
}
