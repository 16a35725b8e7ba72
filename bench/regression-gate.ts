/**
 * The regression gate's rules, apart from the CLI (bench/check.ts). Against the stored
 * baseline: every suite with a ratio to its floor is compared with the baseline's ratio;
 * more than `tolerance` worse is a regression. Against another build measured in the same
 * run (`--against REF`): every suite of ours that the other build also ran (floors and the
 * ungated aside; a floor ratio is not needed, the two builds' latencies are compared
 * directly) is compared with it, lower quartile to lower quartile. Suites with a floor ratio
 * that the reference does not have are `new`, never failures.
 */
import type { MachineInfo, SuiteResult } from './report.js';
import { isFloor } from './suite-names.js';

export interface Baseline {
  machine: MachineInfo;
  tolerance: number;
  floorRatios: Record<string, number>;
}

export interface Verdict {
  name: string;
  baseline: number | undefined;
  current: number;
  change: number | undefined;
  status: 'ok' | 'REGRESSION' | 'new';
  /** Against another build: each pass's change, in the order the passes ran (the verdict judges their median). */
  passChanges?: number[];
}

/**
 * Suites reported but not gated: plain-directory writes hit the backing disk, whose latency
 * swings far more than any code change would move it.
 */
const ungated = (name: string) => name.startsWith('write dir ');

/** The suites the gate compares (and a baseline records): those with a ratio to a floor, less the ungated. */
export function gatedSuites(suites: SuiteResult[]): Array<SuiteResult & { floorRatio: number }> {
  return suites.filter((s): s is SuiteResult & { floorRatio: number } => s.floorRatio !== null && !ungated(s.name));
}

export function compare(suites: SuiteResult[], baseline: Baseline | undefined, tolerance: number): Verdict[] {
  return gatedSuites(suites).map((s) => {
    const b = baseline?.floorRatios[s.name];
    const change = b === undefined ? undefined : s.floorRatio / b - 1;
    return { name: s.name, baseline: b, current: s.floorRatio, change, status: b === undefined ? 'new' : change! > tolerance ? 'REGRESSION' : 'ok' };
  });
}

/** Suites that recorded failed operations (a storm's errors): a failure whatever the ratios. */
export function suitesWithErrors(suites: SuiteResult[]): Array<{ name: string; errors: number; firstError?: string }> {
  return suites
    .filter((s) => Number(s.extra?.errors ?? 0) > 0)
    .map((s) => ({ name: s.name, errors: Number(s.extra!.errors), ...(s.extra?.firstError !== undefined ? { firstError: String(s.extra.firstError) } : {}) }));
}

/**
 * The latency the `--against` comparison reads: the lower quartile of a row's samples (its
 * p50 when the row kept none). On a shared machine the slow half of the samples is mostly
 * other tenants' work arriving at random; the lower quartile follows the code's own cost,
 * and a slowdown of the code moves it as much as the median.
 */
export function gateLatency(s: SuiteResult): number {
  const xs = s.trace?.latenciesMs;
  if (!xs?.length) return s.p50Ms;
  return [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * 0.25)]!;
}

/**
 * `--against REF`: for each gated suite of ours, its lower-quartile latency over that of the
 * same suite measured with REF's build in the same rounds (`driver: 'ref'` rows), one ratio
 * per run, and the median of those ratios over the runs; more than `tolerance` above 1 is a
 * regression. `baseline` and `current` are then REF's and our figure (ms) of the median run.
 */
export function compareWithRef(runs: SuiteResult[][], tolerance: number): Verdict[] {
  const first = runs[0] ?? [];
  const refRan = new Set(first.filter((s) => s.driver === 'ref').map((s) => s.name));
  const judged = first.filter((s) => (s.driver ?? 'ours') === 'ours' && !isFloor(s.name) && !ungated(s.name) && (s.floorRatio !== null || refRan.has(s.name)));
  return judged.map((s) => {
    const pairs = runs
      .map((run) => ({ ours: run.find((o) => (o.driver ?? 'ours') === 'ours' && o.name === s.name), ref: run.find((r) => r.driver === 'ref' && r.name === s.name) }))
      .filter((p): p is { ours: SuiteResult; ref: SuiteResult } => p.ours !== undefined && p.ref !== undefined && gateLatency(p.ref) > 0)
      .map((p) => ({ ours: gateLatency(p.ours), ref: gateLatency(p.ref) }));
    if (pairs.length === 0) return { name: s.name, baseline: undefined, current: gateLatency(s), change: undefined, status: 'new' as const };
    const passChanges = pairs.map((p) => p.ours / p.ref - 1);
    const mid = [...pairs].sort((a, b) => a.ours / a.ref - b.ours / b.ref)[Math.floor((pairs.length - 1) / 2)]!;
    const change = mid.ours / mid.ref - 1;
    return { name: s.name, baseline: mid.ref, current: mid.ours, change, status: change > tolerance ? ('REGRESSION' as const) : ('ok' as const), passChanges };
  });
}
