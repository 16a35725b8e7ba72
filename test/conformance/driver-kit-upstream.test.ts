/**
 * `sscsi conformance driver --driver-bin .peers/bin/secrets-store-csi-driver`: the kit judges
 * upstream's driver v1.6.0 (built by `npm run peers`) as CI runs it. It conforms: the only
 * checks it fails are those of this project's extensions, each marked beyond upstream with
 * its reason, and the exit code is 0 — with --strict, 1.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KitResult } from '../../conformance/check.js';
import { peer } from '../../harness/peers.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { beyondUpstreamIds } from './beyond-upstream.js';

const upstream = peer('secrets-store-csi-driver');
const skipReason = !isRoot ? 'the driver kit needs root (tmpfs mounts)' : upstream.missing;

let tmp: TempRoot | undefined;
const procs: ManagedProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
  await tmp?.cleanup();
  tmp = undefined;
});

describe.skipIf(skipReason !== undefined)(`sscsi conformance driver against upstream's driver${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('conforms, lacking exactly the extensions beyond upstream, each with its reason; exit 0', async () => {
    tmp = await makeTempRoot('conformance-upstream');
    const json = join(tmp.path, 'upstream.json');
    const kit = startBin('cli/main.js', ['conformance', 'driver', '--driver-bin', upstream.path!, '--json', json]);
    procs.push(kit);
    const code = await kit.exited();
    const out = `${kit.stdout()}\n${kit.stderr()}`;
    expect(code, out).toBe(0);
    const result = JSON.parse(await readFile(json, 'utf8')) as KitResult;
    expect(result.target).toBe(upstream.path);
    const failed = result.checks.filter((c) => c.result === 'failed');
    expect(failed.map((c) => c.id).sort(), out).toEqual(beyondUpstreamIds);
    for (const c of failed) expect(c.beyondUpstream, c.id).toMatch(/^upstream v1\.6 /);
    expect(result.checks.filter((c) => c.result === 'skipped')).toEqual([]);
    expect(result.passed).toBe(false);
    expect(result.verdict.conforms).toBe(true);
    expect(result.verdict.failed).toEqual([]);
    expect(result.verdict.extensionsLacked.map((e) => e.id).sort()).toEqual(beyondUpstreamIds);
    expect(kit.stdout()).toMatch(new RegExp(`: CONFORMS, lacking ${beyondUpstreamIds.length} extension\\(s\\) beyond upstream: `));
    // What upstream's own code shows (nodeserver.go, fileutil): mode 0 becomes 000, every republish past the interval calls the provider.
    const byId = Object.fromEntries(result.checks.map((c) => [c.id, c.evidence]));
    expect(byId['mode-unset']).toMatch(/has mode 0000$/);
    expect(byId['plugin-info']).toMatch(/vendor_version=v1\.6\.0/);
    expect(byId['secret-sync']).toMatch(/conformance-synced \(Opaque\)/);
  });

  it('with --strict a lacking extension fails the run (exit 1)', async () => {
    tmp = await makeTempRoot('conformance-upstream-strict');
    const kit = startBin('cli/main.js', ['conformance', 'driver', '--driver-bin', upstream.path!, '--strict', '--only', 'plugin-info', '--only', 'mode-unset']);
    procs.push(kit);
    expect(await kit.exited(), `${kit.stdout()}\n${kit.stderr()}`).toBe(1);
    expect(kit.stdout()).toMatch(/mode-unset \*\s+lacks/);
  });
});
