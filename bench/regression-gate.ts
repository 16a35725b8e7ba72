/**
 * The regression gate's rule, apart from the CLI (bench/check.ts): every suite with a ratio
 * to its floor is compared with the baseline's ratio; more than `tolerance` worse is a
 * regression. Suites the baseline does not know are `new`, never failures.
 */
import type { MachineInfo, SuiteResult } from './report.js';

export interface Baseline {
  machine: MachineInfo;
  tolerance: number;
  floorRatios: Record<string, number>;
}

interface Verdict {
  name: string;
  baseline: number | undefined;
  current: number;
  change: number | undefined;
  status: 'ok' | 'REGRESSION' | 'new';
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
