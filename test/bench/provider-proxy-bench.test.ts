/**
 * The fault proxy's cost as `npm run bench -- --only provider-proxy` reports it: the direct
 * Mount and the one through the proxy, measured (not placeholders), the proxy's row with
 * its ratio to the direct call and the time it adds.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { root } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
let tmp: TempRoot | undefined;
afterEach(async () => {
  await tmp?.cleanup();
  tmp = undefined;
});

describe('npm run bench -- --only provider-proxy', () => {
  it('measures the Mount of 10x1KiB direct and through the fault proxy, with the ratio between them', async () => {
    tmp = await makeTempRoot('bench-proxy');
    const out = join(tmp.path, 'bench.json');
    const { stdout } = await run(process.execPath, [join(root, 'dist/bench/main.js'), '--quick', '--only', 'provider-proxy', '--json', out], { timeout: 120_000 });
    expect(stdout).toMatch(/provider via fault proxy 10x1KiB/);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { suites: Array<{ name: string; p50Ms: number; samples: number; floorRatio: number | null; extra?: { addedP50Ms?: number; emptyCallP50Ms?: number } }> };
    expect(doc.suites.map((s) => s.name)).toEqual(['provider direct 10x1KiB', 'provider via fault proxy 10x1KiB']);
    const [direct, proxied] = doc.suites as [(typeof doc.suites)[0], (typeof doc.suites)[0]];
    for (const s of doc.suites) {
      expect(s.samples).toBeGreaterThanOrEqual(30);
      expect(s.p50Ms).toBeGreaterThan(0);
    }
    expect(direct.floorRatio).toBeNull();
    expect(proxied.floorRatio).toBeCloseTo(proxied.p50Ms / direct.p50Ms, 6);
    expect(proxied.extra?.addedP50Ms).toBeCloseTo(proxied.p50Ms - direct.p50Ms, 2);
    // For scale, one empty gRPC call measured in the same rounds.
    expect(proxied.extra?.emptyCallP50Ms).toBeGreaterThan(0);
  });
});
