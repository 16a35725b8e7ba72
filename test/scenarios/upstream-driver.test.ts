/**
 * The scenarios against upstream's driver (v1.6.0, built by `npm run peers`) through the
 * CLI: `sscsi scenarios run --driver-bin`. Upstream's controller-runtime informers and
 * clients run against the simulated API server, so this is also its fidelity check: a
 * watch, list or body the sim answered differently from kube-apiserver fails these steps.
 * Steps beyond upstream are reported skipped with the reason; everything else must pass.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { peer } from '../../harness/peers.js';

const upstream = peer('secrets-store-csi-driver');
let proc: ManagedProcess | undefined;
let tmp: TempRoot | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = undefined;
  await tmp?.cleanup();
  tmp = undefined;
});

interface Results {
  passed: boolean;
  driverBin?: string;
  scenarios: Array<{ name: string; passed: boolean; steps: Array<{ name: string; result: string; skipReason?: string; figures: Record<string, unknown> }> }>;
}

describe.skipIf(upstream.missing !== undefined)(`sscsi scenarios run --driver-bin (upstream's driver)${upstream.missing ? ` — skipped: ${upstream.missing}` : ''}`, () => {
  it('runs mount and rotation with upstream: its Secrets sync, its rotation on republish, our extensions skipped with the reason', { timeout: 90_000 }, async () => {
    tmp = await makeTempRoot('scenarios-upstream');
    const json = join(tmp.path, 'results.json');
    proc = startBin('cli/main.js', ['scenarios', 'run', '--driver-bin', upstream.path!, '--only', 'mount', '--only', 'rotation', '--json', json]);
    const code = await proc.exited();
    expect(code, proc.stdout() + proc.stderr()).toBe(0);
    expect(proc.stdout()).toMatch(/2\/2 scenarios passed, 2 steps skipped on sim \(driver .*secrets-store-csi-driver\)/);
    const results = JSON.parse(await readFile(json, 'utf8')) as Results;
    expect(results.passed).toBe(true);
    expect(results.driverBin).toBe(upstream.path);
    const steps = results.scenarios.flatMap((s) => s.steps.map((st) => ({ scenario: s.name, ...st })));
    // Every mount step ran and passed: contents, modes, pod statuses, the FailedMount, unpublish.
    expect(steps.filter((s) => s.scenario === 'mount').map((s) => s.result)).toEqual(['passed', 'passed', 'passed', 'passed']);
    // Rotation: the contract passes; the two extensions are skipped, saying why.
    const rotation = steps.filter((s) => s.scenario === 'rotation');
    expect(rotation.filter((s) => s.result === 'failed')).toEqual([]);
    const skipped = rotation.filter((s) => s.result === 'skipped');
    expect(skipped.map((s) => s.name)).toEqual(['the unchanged object was not touched', 'the failure is a SecretRotationFailed event with the provider error code']);
    for (const s of skipped) expect(s.skipReason).toMatch(/^beyond upstream: .*; the driver under test is .*secrets-store-csi-driver$/);
    expect(rotation.find((s) => s.name === 'a changed object reaches the file, the pod status and the Secret')?.result).toBe('passed');
    // The rotation flags are upstream's own: nothing was left out.
    expect(proc.stdout()).not.toMatch(/not passed to/);
  });

  it('refuses --driver-bin off the process-runtime sim and a path that is not executable', async () => {
    proc = startBin('cli/main.js', ['scenarios', 'run', '--driver-bin', upstream.path!, '--runtime', 'docker']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/--driver-bin runs on the simulated cluster with the process runtime/);
    proc = startBin('cli/main.js', ['scenarios', 'run', '--driver-bin', '/nonexistent/driver', '--only', 'mount']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/--driver-bin \/nonexistent\/driver is not an executable file/);
  });
});

describe('without the peer', () => {
  it('the skip names the reason .peers/status.json gives', async () => {
    tmp = await makeTempRoot('peer-status');
    const root = tmp.path;
    expect(peer('secrets-store-csi-driver', root).missing).toBe('peer secrets-store-csi-driver not built: run `npm run peers` (no .peers/status.json yet)');
    await mkdir(join(root, '.peers', 'bin'), { recursive: true });
    const status = (peers: unknown[]) => writeFile(join(root, '.peers', 'status.json'), JSON.stringify({ peers }));
    await status([{ name: 'secrets-store-csi-driver', built: false, reason: 'the Go module registry refused monis.app/mlog' }]);
    expect(peer('secrets-store-csi-driver', root).missing).toBe('peer secrets-store-csi-driver not built: the Go module registry refused monis.app/mlog');
    await status([{ name: 'secrets-store-csi-driver', built: true, version: 'v1.6.0', path: 'x' }]);
    expect(peer('secrets-store-csi-driver', root).missing).toBe(`peer secrets-store-csi-driver not found at ${join(root, '.peers', 'bin', 'secrets-store-csi-driver')}: run \`npm run peers\``);
    await writeFile(join(root, '.peers', 'bin', 'secrets-store-csi-driver'), '');
    expect(peer('secrets-store-csi-driver', root)).toEqual({ path: join(root, '.peers', 'bin', 'secrets-store-csi-driver'), version: 'v1.6.0' });
  });
});
