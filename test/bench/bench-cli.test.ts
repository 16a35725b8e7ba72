/**
 * The benchmark CLI as users and CI call it: a short run writes the JSON document whose
 * field names other tools track, with figures that are measurements (not placeholders).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { root } from '../../harness/managed-process.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
let tmp: TempRoot | undefined;
afterEach(async () => {
  await tmp?.cleanup();
  tmp = undefined;
});

describe('npm run bench', () => {
  it('--quick --json writes the machine and one row per suite with real figures', async () => {
    tmp = await makeTempRoot('bench');
    const out = join(tmp.path, 'bench.json');
    const { stdout } = await run(process.execPath, [join(root, 'dist/bench/main.js'), '--quick', '--only', 'node-publish', '--iterations', '20', '--json', out], { timeout: 120_000 });
    expect(stdout).toMatch(/node-publish 10x1KiB/);
    const doc = JSON.parse(await readFile(out, 'utf8')) as {
      machine: { node: string; cpus: number };
      suites: Array<{ name: string; opsPerSec: number; meanMs: number; p50Ms: number; p99Ms: number; maxMs: number; rssMb: number | null; floorRatio: number | null; samples: number }>;
    };
    expect(doc.machine.node).toBe(process.version);
    expect(doc.machine.cpus).toBeGreaterThan(0);
    expect(doc.suites.map((s) => s.name)).toEqual(['node-publish 10x1KiB', 'node-unpublish 10x1KiB', 'floor csi-empty', 'floor provider-empty', 'floor api-get']);
    // Without the micro group there is no mount or write floor: no ratio is made up.
    expect(doc.suites.find((s) => s.name === 'node-publish 10x1KiB')!.floorRatio).toBeNull();
    for (const s of doc.suites) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['name', 'opsPerSec', 'meanMs', 'p50Ms', 'p99Ms', 'maxMs', 'rssMb', 'floorRatio']));
      expect(s.samples).toBeGreaterThanOrEqual(20);
      expect(s.p50Ms).toBeGreaterThan(0);
      expect(s.p99Ms).toBeGreaterThanOrEqual(s.p50Ms);
      expect(s.maxMs).toBeGreaterThanOrEqual(s.p99Ms);
      expect(s.opsPerSec).toBeGreaterThan(0);
      if (s.name.startsWith('floor ')) expect(s.rssMb).toBeNull();
      else expect(s.rssMb).toBeGreaterThan(10);
    }
  });

  it('pod-startup measures pods one after another on the sim, from the create request until they run', async () => {
    tmp = await makeTempRoot('bench');
    const out = join(tmp.path, 'bench.json');
    const { stdout } = await run(process.execPath, [join(root, 'dist/bench/main.js'), '--only', 'pod-startup', '--iterations', '4', '--json', out], { timeout: 180_000 });
    expect(stdout).toMatch(/no --k8s-state-dir, so the sim only/);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { suites: Array<{ name: string; p50Ms: number; maxMs: number; samples: number }> };
    expect(doc.suites.map((s) => s.name)).toEqual(['pod create-to-Running (sim)']);
    const row = doc.suites[0]!;
    expect(row.samples).toBe(4);
    // A pod's start on the sim includes a provider call and a mount: never instant, never a minute.
    expect(row.p50Ms).toBeGreaterThan(1);
    expect(row.maxMs).toBeLessThan(60_000);
  }, 200_000);

  it('rejects an unknown group or flag, or a comparison it cannot make, with a usage message and exit code 2', async () => {
    for (const args of [['--only', 'nope'], ['--frobnicate'], ['--compare', 'downstream'], ['--compare', 'upstream', '--only', 'micro'], ['--k8s-state-dir', '/tmp/x', '--only', 'micro']]) {
      const err = await run(process.execPath, [join(root, 'dist/bench/main.js'), ...args]).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code).toBe(2);
      expect(err?.stderr).toMatch(/usage: npm run bench/);
    }
  });
});
