#!/usr/bin/env node
/**
 * `npm run bench:check [-- --tolerance 0.25] [-- --update-baseline] [-- --json FILE]`: the
 * regression gate. Runs the quick groups and compares each suite's ratio to its floor with
 * bench/baseline.json; a ratio more than `tolerance` worse than the baseline fails the gate
 * (exit 1). Ratios, not times, so the gate survives a faster or slower machine. CI runs it
 * with a looser tolerance (shared machines are noisy): a gross regression fails CI, a small
 * one is reported. `--update-baseline` writes the current ratios as the new baseline.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../driver/version.js';
import { groups, runGroups } from './groups.js';
import { machineInfo, writeJson, type SuiteResult } from './report.js';

const baselinePath = join(packageRoot(), 'bench', 'baseline.json');

interface Baseline {
  machine: ReturnType<typeof machineInfo>;
  tolerance: number;
  floorRatios: Record<string, number>;
}

export interface Verdict {
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
export const ungated = (name: string) => name.startsWith('write dir ');

export function compare(suites: SuiteResult[], baseline: Baseline | undefined, tolerance: number): Verdict[] {
  return suites
    .filter((s) => s.floorRatio !== null && !ungated(s.name))
    .map((s) => {
      const b = baseline?.floorRatios[s.name];
      const change = b === undefined ? undefined : s.floorRatio! / b - 1;
      return { name: s.name, baseline: b, current: s.floorRatio!, change, status: b === undefined ? 'new' : change! > tolerance ? 'REGRESSION' : 'ok' };
    });
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        tolerance: { type: 'string', default: '0.25' },
        'update-baseline': { type: 'boolean', default: false },
        json: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: npm run bench:check -- [--tolerance 0.25] [--update-baseline] [--json FILE]`);
    return 2;
  }
  const tolerance = Number(args.tolerance);
  if (!(tolerance >= 0)) {
    console.error(`--tolerance must be a non-negative number (0.25 = 25% worse), got ${args.tolerance}`);
    return 2;
  }
  const quick = Object.keys(groups).filter((g) => groups[g]!.quick);
  console.log(`bench:check: quick run of ${quick.join(', ')}; tolerance ${Math.round(tolerance * 100)}%`);
  const suites = await runGroups(quick, { quick: true, iterations: undefined, log: (l) => console.log(l) }, 2);
  if (args.json) await writeJson(args.json, machineInfo(), suites);
  if (args['update-baseline']) {
    const floorRatios = Object.fromEntries(suites.filter((s) => s.floorRatio !== null && !ungated(s.name)).map((s) => [s.name, Math.round(s.floorRatio! * 1000) / 1000]));
    await writeFile(baselinePath, `${JSON.stringify({ machine: machineInfo(), tolerance, floorRatios }, null, 2)}\n`);
    console.log(`wrote ${baselinePath} (${Object.keys(floorRatios).length} ratios)`);
    return 0;
  }
  let baseline: Baseline | undefined;
  try {
    baseline = JSON.parse(await readFile(baselinePath, 'utf8')) as Baseline;
  } catch {
    console.log(`no baseline at ${baselinePath}: every suite is new; run with --update-baseline to record one`);
  }
  const verdicts = compare(suites, baseline, tolerance);
  const w = Math.max(...verdicts.map((v) => v.name.length), 5);
  console.log(`\n${'suite'.padEnd(w)}  baseline  current  change   status`);
  for (const v of verdicts) {
    const change = v.change === undefined ? '-' : `${v.change >= 0 ? '+' : ''}${(v.change * 100).toFixed(0)}%`;
    console.log(`${v.name.padEnd(w)}  ${(v.baseline?.toFixed(2) ?? '-').padStart(8)}  ${v.current.toFixed(2).padStart(7)}  ${change.padStart(6)}   ${v.status}`);
  }
  const regressions = verdicts.filter((v) => v.status === 'REGRESSION');
  const missing = Object.keys(baseline?.floorRatios ?? {}).filter((n) => !verdicts.some((v) => v.name === n));
  if (missing.length) console.log(`\nin the baseline but not measured now: ${missing.join(', ')}`);
  if (regressions.length) {
    console.log(`\n${regressions.length} suite(s) more than ${Math.round(tolerance * 100)}% worse than the baseline: ${regressions.map((r) => r.name).join(', ')}`);
    return 1;
  }
  console.log('\nno regression beyond the tolerance');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
