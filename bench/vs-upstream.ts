/**
 * `--compare upstream`: every row says whose driver it measured, and each of our rows that
 * upstream has a row of the same name for gets `vsUpstream`, ours / upstream of the two
 * rows' own figures (below 1: ours is faster or smaller).
 */
import type { SuiteResult } from './report.js';

const ratio = (ours: number | null | undefined, upstream: number | null | undefined) =>
  typeof ours === 'number' && typeof upstream === 'number' && ours > 0 && upstream > 0 ? ours / upstream : null;

export function withVsUpstream(suites: SuiteResult[]): SuiteResult[] {
  return suites.map((s) => {
    const row: SuiteResult = { ...s, driver: s.driver ?? 'ours' };
    if (row.driver !== 'ours') return row;
    const up = suites.find((u) => u.driver === 'upstream' && u.name === s.name);
    if (!up) return row;
    const totalMs = s.extra?.totalMs;
    const upTotalMs = up.extra?.totalMs;
    row.vsUpstream = {
      p50: ratio(s.p50Ms, up.p50Ms),
      rss: ratio(s.rssMb, up.rssMb),
      ...(typeof totalMs === 'number' && typeof upTotalMs === 'number' ? { totalMs: ratio(totalMs, upTotalMs) } : {}),
    };
    return row;
  });
}
