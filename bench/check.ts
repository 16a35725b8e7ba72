#!/usr/bin/env node
/**
 * `npm run bench:check [-- --tolerance T] [--update-baseline] [--json FILE]
 * [--baseline FILE] [--only GROUP]... [--repeat N] [--against [REF]]`: the regression gate.
 *
 * Against the stored baseline (the default): runs the quick groups (those with floors
 * `--repeat` times, 3 by default and 5 for `--update-baseline`, each suite reporting its
 * median run) and compares each suite's ratio to its floor with bench/baseline.json; a ratio
 * more than `tolerance` worse than the baseline fails the gate (exit 1). Ratios, not times,
 * so the gate survives a faster or slower machine — but not a machine whose noise differs
 * from the one that recorded the baseline. `--update-baseline` writes the current ratios as
 * the new baseline.
 *
 * `--against REF` (a git ref; without one, the merge-base of HEAD with main): builds REF in
 * a temporary git worktree (bench/ref-build.ts) and runs the gated groups (`micro` and
 * `node-publish`, or `--only`) once with both builds side by side — REF's provider client
 * and writer beside ours task by task, REF's driver process beside ours publish by publish,
 * in the same interleaved rounds — and compares each suite's lower-quartile latency with
 * REF's from the same rounds (regression-gate.ts `gateLatency`; `--repeat N`: N such runs,
 * the median ratio; default tolerance 15%). Both builds see the same stretches
 * of a noisy machine, so no stored figure is involved. The worktree is removed whatever
 * happens. Exit codes: 0 no regression, 1 regression (or a failed storm), 2 bad usage or a
 * ref that cannot be built.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../driver/version.js';
import { refDriver } from './driver-under-test.js';
import { groups, quickGroups, runGroups, unknownGroups } from './groups.js';
import { buildRef, defaultRef, RefBuildError, type RefBuild } from './ref-build.js';
import { formatTable, machineInfo, writeJson, type SuiteResult } from './report.js';
import { compare, compareWithRef, gatedSuites, suitesWithErrors, type Baseline, type Verdict } from './regression-gate.js';
import { isPositiveInteger, runCli } from './run-cli.js';

const defaultBaseline = join(packageRoot(), 'bench', 'baseline.json');
const usage = 'usage: npm run bench:check -- [--tolerance 0.25 (--against: 0.15)] [--update-baseline] [--json FILE] [--baseline FILE] [--only GROUP]... [--repeat N] [--against [REF]]';
/** The groups `--against` runs by default: those the gate compares (with floors). */
const againstGroups = Object.keys(groups).filter((g) => groups[g]!.floors);
/** `--against` given without a ref (last, or followed by another option): the merge-base with main. */
const mergeBaseMarker = '\u0000merge-base';

function withDefaultRef(argv: string[]): string[] {
  return argv.flatMap((a, i) => (a === '--against' && (i === argv.length - 1 || argv[i + 1]!.startsWith('--')) ? [a, mergeBaseMarker] : [a]));
}

function printVerdicts(verdicts: Verdict[], columns: [string, string]): void {
  const w = Math.max(...verdicts.map((v) => v.name.length), 5);
  console.log(`\n${'suite'.padEnd(w)}  ${columns[0].padStart(8)}  ${columns[1].padStart(7)}  change   status`);
  for (const v of verdicts) {
    const pct = (c: number) => `${c >= 0 ? '+' : ''}${(c * 100).toFixed(0)}%`;
    const change = v.change === undefined ? '-' : pct(v.change);
    const passes = v.passChanges && v.passChanges.length > 1 ? `   (passes ${v.passChanges.map(pct).join(' ')})` : '';
    console.log(`${v.name.padEnd(w)}  ${(v.baseline?.toFixed(2) ?? '-').padStart(8)}  ${v.current.toFixed(2).padStart(7)}  ${change.padStart(6)}   ${v.status}${passes}`);
  }
}

/** Prints what failed; the exit code. */
function verdictExit(verdicts: Verdict[], suites: SuiteResult[], tolerance: number, what: string): number {
  const regressions = verdicts.filter((v) => v.status === 'REGRESSION');
  const failed = suitesWithErrors(suites);
  for (const f of failed) console.log(`\n${f.name}: ${f.errors} operation(s) failed${f.firstError ? ` (first: ${f.firstError})` : ''}`);
  if (regressions.length || failed.length) {
    if (regressions.length) console.log(`\n${regressions.length} suite(s) more than ${Math.round(tolerance * 100)}% worse than ${what}: ${regressions.map((r) => r.name).join(', ')}`);
    return 1;
  }
  console.log(`\nno regression beyond the tolerance (${what})`);
  return 0;
}

async function againstRef(ref: string, names: readonly string[], repeat: number, tolerance: number, json: string | undefined): Promise<number> {
  // Stopped by a signal at any point (the build included), the worktree goes first.
  let remove: (() => Promise<void>) | undefined;
  const removeOnSignal = (signal: NodeJS.Signals) => {
    void (remove?.() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', removeOnSignal);
  process.once('SIGTERM', removeOnSignal);
  let build: RefBuild;
  try {
    build = await buildRef(ref === mergeBaseMarker ? await defaultRef() : ref, (l) => console.log(l), (r) => (remove = r));
  } catch (err) {
    process.off('SIGINT', removeOnSignal);
    process.off('SIGTERM', removeOnSignal);
    if (!(err instanceof RefBuildError)) throw err;
    console.error(err.message);
    return 2;
  }
  try {
    const label = `${build.ref === build.commit ? '' : `${build.ref} = `}${build.commit.slice(0, 12)}`;
    console.log(`bench:check: ${names.join(', ')} with this build and ${label} side by side in the same rounds (${repeat} run${repeat > 1 ? 's, the median ratio' : ''}); tolerance ${Math.round(tolerance * 100)}%`);
    const runs: SuiteResult[][] = [];
    for (let i = 0; i < repeat; i++) {
      // Alternate which build's tasks come first in a round, so neither always runs warm.
      runs.push(await runGroups(names, { quick: true, iterations: undefined, others: [refDriver(build.root)], ref: { root: build.root, first: i % 2 === 1 }, log: (l) => console.log(l) }));
    }
    const verdicts = compareWithRef(runs, tolerance);
    const last = runs[runs.length - 1]!;
    console.log(`\n${formatTable(last)}`);
    if (json) await writeJson(json, machineInfo(), last, { against: { ref: build.ref, commit: build.commit, tolerance, runs: repeat, verdicts } });
    if (verdicts.length === 0) {
      console.log(`\nnothing to compare with ${label}: no suite measured in ${names.join(', ')} is one the gate judges (groups with floors: ${againstGroups.join(', ')})`);
      return 2;
    }
    printVerdicts(verdicts, ['ref p25', 'p25']);
    return verdictExit(verdicts, last, tolerance, label);
  } finally {
    process.off('SIGINT', removeOnSignal);
    process.off('SIGTERM', removeOnSignal);
    await build.remove();
  }
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: withDefaultRef(process.argv.slice(2)),
      options: {
        tolerance: { type: 'string' },
        'update-baseline': { type: 'boolean', default: false },
        json: { type: 'string' },
        baseline: { type: 'string', default: defaultBaseline },
        only: { type: 'string', multiple: true },
        repeat: { type: 'string' },
        against: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (args.against !== undefined && args['update-baseline']) {
    console.error(`--against compares with another build in the same run; it records no baseline (drop --update-baseline)\n${usage}`);
    return 2;
  }
  const baselinePath = args.baseline;
  // A baseline is the reference every later run is judged by: it gets more runs (5) than a
  // check (3), so that it sits at the middle of the noise rather than at one edge. Against
  // another build, 3 runs too: one run compares like with like, but on a machine loaded by
  // other work one run of unchanged code was seen 17% and 27% "worse" (provider and
  // unchanged write, absolute latencies 3–5× their usual), and the runs alternate which
  // build goes first, which one run cannot.
  const repeat = Number(args.repeat ?? (args['update-baseline'] ? 5 : 3));
  if (!isPositiveInteger(repeat)) {
    console.error(`--repeat must be a positive integer, got ${args.repeat}\n${usage}`);
    return 2;
  }
  // Within one run (--against) the two builds' figures differ by a few percent on unchanged
  // code, so a tighter default than against a baseline recorded at another time.
  const tolerance = Number(args.tolerance ?? (args.against !== undefined ? 0.15 : 0.25));
  if (!(tolerance >= 0)) {
    console.error(`--tolerance must be a non-negative number (0.25 = 25% worse), got ${args.tolerance}`);
    return 2;
  }
  const quick = args.only ?? (args.against !== undefined ? againstGroups : quickGroups);
  const unknown = unknownGroups(quick);
  if (unknown.length > 0) {
    console.error(`unknown benchmark group ${unknown.join(', ')} (groups: ${Object.keys(groups).join(', ')})\n${usage}`);
    return 2;
  }
  if (args.against !== undefined) return againstRef(args.against, quick, repeat, tolerance, args.json);
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
  printVerdicts(verdicts, ['baseline', 'current']);
  const missing = Object.keys(baseline?.floorRatios ?? {}).filter((n) => !verdicts.some((v) => v.name === n));
  if (missing.length) console.log(`\nin the baseline but not measured now: ${missing.join(', ')}`);
  return verdictExit(verdicts, suites, tolerance, 'the baseline');
}

runCli(main);
