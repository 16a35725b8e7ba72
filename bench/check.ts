#!/usr/bin/env node
/**
 * `npm run bench:check [-- --tolerance 0.25] [--update-baseline] [--json FILE]
 * [--baseline FILE] [--only GROUP]... [--repeat N]`: the regression gate. Runs the quick
 * groups (those with floors `--repeat` times, 3 by default and 5 for `--update-baseline`,
 * each suite reporting its median run) and compares each suite's
 * ratio to its floor with bench/baseline.json; a ratio more than `tolerance` worse than the
 * baseline fails the gate (exit 1). Ratios, not times, so the gate survives a faster or
 * slower machine. CI runs it with a looser tolerance (shared machines are noisy): a gross
 * regression fails CI, a small one is reported. `--update-baseline` writes the current
 * ratios as the new baseline. Exit codes: 0 no regression, 1 regression, 2 bad usage.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../driver/version.js';
import { groups, quickGroups, runGroups, unknownGroups } from './groups.js';
import { formatTable, machineInfo, writeJson } from './report.js';
import { compare, gatedSuites, suitesWithErrors, type Baseline } from './regression-gate.js';
import { isPositiveInteger, runCli } from './run-cli.js';

const defaultBaseline = join(packageRoot(), 'bench', 'baseline.json');
const usage = 'usage: npm run bench:check -- [--tolerance 0.25] [--update-baseline] [--json FILE] [--baseline FILE] [--only GROUP]... [--repeat N]';

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        tolerance: { type: 'string', default: '0.25' },
        'update-baseline': { type: 'boolean', default: false },
        json: { type: 'string' },
        baseline: { type: 'string', default: defaultBaseline },
        only: { type: 'string', multiple: true },
        repeat: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const baselinePath = args.baseline;
  // A baseline is the reference every later run is judged by: it gets more runs (5) than a
  // check (3), so that it sits at the middle of the noise rather than at one edge.
  const repeat = Number(args.repeat ?? (args['update-baseline'] ? 5 : 3));
  if (!isPositiveInteger(repeat)) {
    console.error(`--repeat must be a positive integer, got ${args.repeat}\n${usage}`);
    return 2;
  }
  const tolerance = Number(args.tolerance);
  if (!(tolerance >= 0)) {
    console.error(`--tolerance must be a non-negative number (0.25 = 25% worse), got ${args.tolerance}`);
    return 2;
  }
  const quick = args.only ?? quickGroups;
  const unknown = unknownGroups(quick);
  if (unknown.length > 0) {
    console.error(`unknown benchmark group ${unknown.join(', ')} (groups: ${Object.keys(groups).join(', ')})\n${usage}`);
    return 2;
  }
  console.log(`bench:check: quick run of ${quick.join(', ')} (median of ${repeat}); tolerance ${Math.round(tolerance * 100)}%; baseline ${baselinePath}`);
  const suites = await runGroups(quick, { quick: true, iterations: undefined, log: (l) => console.log(l) }, repeat);
  console.log(`\n${formatTable(suites)}`);
  if (args.json) await writeJson(args.json, machineInfo(), suites);
  if (args['update-baseline']) {
    const floorRatios = Object.fromEntries(gatedSuites(suites).map((s) => [s.name, Math.round(s.floorRatio * 1000) / 1000]));
    await writeFile(baselinePath, `${JSON.stringify({ machine: machineInfo(), tolerance, floorRatios }, null, 2)}\n`);
    console.log(`wrote ${baselinePath} (${Object.keys(floorRatios).length} ratios)`);
    return 0;
  }
  let baseline: Baseline | undefined;
  try {
    baseline = JSON.parse(await readFile(baselinePath, 'utf8')) as Baseline;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      console.error(`cannot read the baseline ${baselinePath}: ${(err as Error).message}`);
      return 2;
    }
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
  const failed = suitesWithErrors(suites);
  for (const f of failed) console.log(`\n${f.name}: ${f.errors} operation(s) failed${f.firstError ? ` (first: ${f.firstError})` : ''}`);
  if (regressions.length || failed.length) {
    if (regressions.length) console.log(`\n${regressions.length} suite(s) more than ${Math.round(tolerance * 100)}% worse than the baseline: ${regressions.map((r) => r.name).join(', ')}`);
    return 1;
  }
  console.log('\nno regression beyond the tolerance');
  return 0;
}

runCli(main);
