/**
 * The benchmark regression gate: the comparison rule on its own, and `npm run bench:check`
 * as CI calls it — a short real run of the micro group against a baseline written here, so
 * the verdicts (and the exit code) follow from measured ratios.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { compare, compareWithRef, gateLatency, suitesWithErrors, type Baseline } from '../../bench/regression-gate.js';
import type { SuiteResult } from '../../bench/report.js';
import { root } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
let tmp: TempRoot | undefined;
afterEach(async () => {
  await tmp?.cleanup();
  tmp = undefined;
});

const suite = (name: string, floorRatio: number | null, extra?: SuiteResult['extra']): SuiteResult => ({
  name,
  opsPerSec: 1000,
  meanMs: 1,
  p50Ms: 1,
  p99Ms: 2,
  maxMs: 3,
  rssMb: 100,
  floorRatio,
  samples: 100,
  ...(extra ? { extra } : {}),
});
const baseline = (floorRatios: Record<string, number>): Baseline => ({
  machine: { node: 'v24', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'x', memoryMb: 1, hostname: 'h', date: '2026-01-01T00:00:00Z', root: true },
  tolerance: 0.25,
  floorRatios,
});

describe('regression gate rule', () => {
  it('fails a ratio more than the tolerance worse, passes one within it, and calls unknown suites new', () => {
    const verdicts = compare(
      [suite('a', 1.3), suite('b', 1.2), suite('c', 0.5), suite('d', 2), suite('no floor', null), suite('write dir first 10x1KiB', 50)],
      baseline({ a: 1, b: 1, c: 1, 'write dir first 10x1KiB': 1 }),
      0.25,
    );
    expect(verdicts.map((v) => [v.name, v.status])).toEqual([
      ['a', 'REGRESSION'],
      ['b', 'ok'],
      ['c', 'ok'],
      ['d', 'new'],
    ]);
    expect(verdicts[0]!.change).toBeCloseTo(0.3);
  });

  it('against another build: compares lower quartiles within each run and takes the median run', () => {
    /** A row whose samples are 1..100 ms scaled by `k` (lower quartile 25k ms, p50 50k). */
    const scaled = (name: string, k: number, driver?: 'ref'): SuiteResult => ({
      ...suite(name, driver ? null : 2),
      p50Ms: 50 * k,
      trace: { latenciesMs: Array.from({ length: 100 }, (_, i) => (i + 1) * k) },
      ...(driver ? { driver } : {}),
    });
    expect(gateLatency(scaled('x', 2))).toBe(50);
    const run = (ours: number, ref: number) => [scaled('publish', ours), scaled('publish', ref, 'ref'), scaled('only ours', 1), suite('no floor', null)];
    // Runs at +10%, +40% and +20%: the median run (+20%) decides.
    const verdicts = compareWithRef([run(1.1, 1), run(1.4, 1), run(1.2, 1)], 0.15);
    expect(verdicts.map((v) => [v.name, v.status])).toEqual([
      ['publish', 'REGRESSION'],
      ['only ours', 'new'],
    ]);
    expect(verdicts[0]!.change).toBeCloseTo(0.2);
    expect(verdicts[0]!.baseline).toBeCloseTo(25);
    expect(verdicts[0]!.current).toBeCloseTo(30);
    // Each pass's change, in the order they ran.
    expect(verdicts[0]!.passChanges!.map((c) => Math.round(c * 100))).toEqual([10, 40, 20]);
    expect(compareWithRef([run(1.1, 1)], 0.15)[0]!.status).toBe('ok');
    // The slow half of the samples does not decide: ours slower only above the median passes.
    const tail = { ...scaled('publish', 1), trace: { latenciesMs: Array.from({ length: 100 }, (_, i) => (i < 50 ? i + 1 : (i + 1) * 3)) } };
    expect(compareWithRef([[tail, scaled('publish', 1, 'ref')]], 0.15)[0]!.status).toBe('ok');
    // Without its floors (`--only node-publish`: the mount and write floors are the micro
    // group's) a suite has no floor ratio, and is still judged against the other build; a
    // floor run by both builds is not.
    const noRatio = (name: string, k: number, driver?: 'ref') => ({ ...scaled(name, k, driver), floorRatio: null });
    const alone = compareWithRef([[noRatio('node-publish', 1.3), noRatio('node-publish', 1, 'ref'), noRatio('floor csi-empty', 2), noRatio('floor csi-empty', 1, 'ref')]], 0.15);
    expect(alone.map((v) => [v.name, v.status])).toEqual([['node-publish', 'REGRESSION']]);
  });

  it('reports suites whose operations failed', () => {
    expect(suitesWithErrors([suite('storm 50 publishes', null, { errors: 2, firstError: 'boom' }), suite('storm 200 publishes', null, { errors: 0 })])).toEqual([
      { name: 'storm 50 publishes', errors: 2, firstError: 'boom' },
    ]);
  });
});

describe('npm run bench:check', () => {
  it('measures, compares with the baseline it is given, and exits 1 on a regression', async () => {
    tmp = await makeTempRoot('gate');
    const file = join(tmp.path, 'baseline.json');
    // A ratio no implementation can reach (the provider call 100× faster than an empty
    // call), one any can (1000× slower), and a suite this run does not measure.
    await writeFile(file, JSON.stringify(baseline({ 'provider 10x1KiB': 0.01, 'write tmpfs unchanged 10x1KiB': 1000, 'retired suite': 1 })));
    const out = join(tmp.path, 'gate.json');
    const err = await run(process.execPath, [join(root, 'dist/bench/check.js'), '--only', 'micro', '--repeat', '1', '--baseline', file, '--json', out], { timeout: 120_000 }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stdout).toMatch(/^provider 10x1KiB\s+0\.01\s+[\d.]+\s+\+\d+%\s+REGRESSION$/m);
    expect(err?.stdout).toMatch(/^write tmpfs unchanged 10x1KiB\s+1000\.00\s+[\d.]+\s+-\d+%\s+ok$/m);
    expect(err?.stdout).toMatch(/^fetch-and-write 10x1KiB\s+-\s+[\d.]+\s+-\s+new$/m);
    expect(err?.stdout).toMatch(/in the baseline but not measured now: retired suite/);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { suites: SuiteResult[] };
    const provider = doc.suites.find((s) => s.name === 'provider 10x1KiB')!;
    expect(provider.floorRatio).toBeGreaterThan(0.1);
    expect(provider.p50Ms).toBeGreaterThan(0);
  });

  it('rejects a ref that is no commit with exit code 2, naming it, and leaves no worktree behind', async () => {
    // Its own temporary directory, so that nothing else's worktrees (other runs) can confuse the check.
    tmp = await makeTempRoot('gate-ref');
    const err = await run(process.execPath, [join(root, 'dist/bench/check.js'), '--against', 'no-such-ref-anywhere'], { env: { ...process.env, TMPDIR: tmp.path } }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/--against no-such-ref-anywhere: not a commit in this repository.*e\.g\. --against HEAD~1/);
    expect(await readdir(tmp.path)).toEqual([]);
    expect((await run('git', ['worktree', 'list', '--porcelain'], { cwd: root })).stdout).not.toContain(tmp.path);
  });

  it('rejects bad usage with exit code 2', async () => {
    for (const args of [['--repeat', '0'], ['--only', 'nope'], ['--tolerance', 'x'], ['--frobnicate'], ['--against', 'HEAD', '--update-baseline']]) {
      const err = await run(process.execPath, [join(root, 'dist/bench/check.js'), ...args]).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code, args.join(' ')).toBe(2);
      expect(err?.stderr).toMatch(/usage: npm run bench:check|must be/);
    }
  });
});
