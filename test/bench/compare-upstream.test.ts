/**
 * `npm run bench -- --compare upstream` as a user runs it, on a tiny configuration: both
 * drivers measured (upstream's v1.6.0 from `npm run peers`), every row saying whose driver
 * it measured, our rows carrying ours / upstream of the two rows' own figures, and an HTML
 * report whose charts are inline SVG.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { findUpstreamDriver } from '../../bench/driver-under-test.js';
import { root } from '../../harness/managed-process.js';
import { isRoot } from '../../harness/temp-root.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const peer = await findUpstreamDriver();
const skip = 'missing' in peer ? peer.missing : !isRoot ? "not root: upstream's driver mounts tmpfs, which needs root" : null;

interface Row {
  name: string;
  driver?: string;
  p50Ms: number;
  p99Ms: number;
  rssMb: number | null;
  samples: number;
  extra?: Record<string, number | string>;
  vsUpstream?: { p50: number | null; rss: number | null; totalMs?: number | null };
}

let tmp: TempRoot | undefined;
afterEach(async () => {
  await tmp?.cleanup();
  tmp = undefined;
});

describe.skipIf(skip !== null)(`npm run bench -- --compare upstream${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('measures both drivers, says whose each row is, gives ours / upstream ratios and draws the charts', { timeout: 300_000 }, async () => {
    tmp = await makeTempRoot('bench-compare');
    const json = join(tmp.path, 'bench.json');
    const html = join(tmp.path, 'bench.html');
    const { stdout } = await run(process.execPath, [join(root, 'dist/bench/main.js'), '--compare', 'upstream', '--quick', '--iterations', '20', '--json', json, '--html', html], { timeout: 280_000 });
    expect(stdout).toMatch(/compared with upstream v1\.6\.0/);
    const doc = JSON.parse(await readFile(json, 'utf8')) as { suites: Row[] };

    for (const s of doc.suites) expect(['ours', 'upstream']).toContain(s.driver);
    // The rows both drivers have: publish, unpublish, the storm, memory, and rotation by republish.
    const both = ['node-publish 10x1KiB', 'node-unpublish 10x1KiB', 'storm 50 publishes', 'driver idle', 'driver 100 volumes mounted', 'driver idle, crowded cluster', 'rotation republish 20 volumes, none changed', 'rotation republish 20 volumes, 10% changed'];
    const upstream = doc.suites.filter((s) => s.driver === 'upstream');
    expect(upstream.map((s) => s.name).sort()).toEqual([...both].sort());
    // Ours alone: the floors (measured against our processes) and our poller's passes.
    const oursAlone = doc.suites.filter((s) => s.driver === 'ours' && !both.includes(s.name)).map((s) => s.name);
    expect(oursAlone).toEqual(expect.arrayContaining(['floor csi-empty', 'rotation pass 20 volumes, none changed', 'rotation pass 20 volumes, 10% changed']));

    for (const name of both) {
      const ours = doc.suites.find((s) => s.driver === 'ours' && s.name === name)!;
      const up = doc.suites.find((s) => s.driver === 'upstream' && s.name === name)!;
      // The ratio is ours / upstream of the rows' own figures; a side without one has none.
      const expectRatio = (actual: number | null | undefined, a: number | null, b: number | null) => {
        if (a !== null && b !== null && a > 0 && b > 0) expect(actual).toBeCloseTo(a / b, 9);
        else expect(actual).toBeNull();
      };
      expect(ours.vsUpstream, name).toBeDefined();
      expectRatio(ours.vsUpstream!.p50, ours.p50Ms, up.p50Ms);
      expectRatio(ours.vsUpstream!.rss, ours.rssMb, up.rssMb);
      expect(up.vsUpstream).toBeUndefined();
      if (name.startsWith('driver ') || name.startsWith('node-') || name.startsWith('storm')) {
        // Upstream's driver is a real process of its own with a resident set to read.
        expect(up.rssMb).toBeGreaterThan(5);
        expect(ours.vsUpstream!.rss).toBeGreaterThan(0);
      }
      if (!name.startsWith('driver ')) {
        expect(up.p50Ms).toBeGreaterThan(0);
        expect(ours.vsUpstream!.p50).toBeGreaterThan(0);
      }
    }
    const storm = (driver: string) => doc.suites.find((s) => s.driver === driver && s.name === 'storm 50 publishes')!;
    for (const d of ['ours', 'upstream']) {
      expect(storm(d).extra?.errors).toBe(0);
      expect(storm(d).samples).toBe(50);
    }
    expect(storm('ours').vsUpstream!.totalMs).toBeCloseTo((storm('ours').extra!.totalMs as number) / (storm('upstream').extra!.totalMs as number), 9);
    // Upstream's driver is a Go process: its memory rows are RSS only, and say so.
    expect(upstream.find((s) => s.name === 'driver idle')!.extra?.heap).toMatch(/RSS only/);
    // Both idle rows split their RSS into the driver's own (anonymous) pages and mapped files'
    // (the executable): the two add up to the RSS read a moment before (the kernel's VmRSS
    // is RssAnon + RssFile + RssShmem, and a driver uses no shared memory).
    for (const d of ['ours', 'upstream']) {
      const idle = doc.suites.find((s) => s.driver === d && s.name === 'driver idle')!;
      const anon = idle.extra?.rssAnonMb as number;
      const file = idle.extra?.rssFileMb as number;
      expect(anon, d).toBeGreaterThan(1);
      expect(file, d).toBeGreaterThan(1);
      expect(Math.abs(anon + file - idle.rssMb!), d).toBeLessThan(2);
    }

    const page = await readFile(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    // Self-contained: no script, stylesheet or image fetched when the page is viewed.
    expect(page).not.toMatch(/<script|<link|src=/i);
    const svgs = page.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    // At least: publish, unpublish, storm and two republish distributions, storm completions, storm RSS, memory.
    expect(svgs.length).toBeGreaterThanOrEqual(8);
    for (const title of ['node-publish 10x1KiB', 'storm 50 publishes: completed publishes over time', 'storm 50 publishes: driver RSS during the storm', 'driver RSS: idle and with volumes mounted']) {
      expect(svgs.some((s) => s.includes(title)), title).toBe(true);
    }
    // Every comparison chart has a line (a path) per driver and names both in its legend.
    const completions = svgs.find((s) => s.includes('completed publishes over time'))!;
    expect(completions).toMatch(/>ours</);
    expect(completions).toMatch(/>upstream</);
  });
});
