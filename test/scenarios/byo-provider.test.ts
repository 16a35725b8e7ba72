/**
 * "Bring your own provider": `sscsi scenarios run --provider NAME=SOCKET --spc FILE` against
 * a provider process the test starts itself (our fake provider binary, run as an outside
 * process named `acme` with its own store), driven through the CLI as a provider author
 * would: every scenario runs (faults through the fault proxy) but rotation, skipped without
 * --rotate-cmd with the reason; the checks fail when the provider's answers change or it goes away; usage
 * mistakes are one line and exit code 2.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBin, type ManagedProcess, startFakeProviderBin } from '../../harness/managed-process.js';
import type { RunResult } from '../../scenarios/report.js';
import { ControlClient } from '../../fake-providers/control-client.js';
import { startAltProvider } from '../helpers/alt-provider.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const secrets = { password: 'acme-pw-0c4f1e', apiKey: 'acme-key-9b2d77' };
const store = `objects:
  - name: db-password
    version: "7"
    contents: "${secrets.password}"
  - name: api-key
    version: "v3"
    contents: "${secrets.apiKey}"
`;
const spc = (provider: string, objects = ['db-password', 'api-key']) => `apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: acme-creds
spec:
  provider: ${provider}
  parameters:
    objects: |
${objects.map((o) => (o === 'db-password' ? `      - objectName: ${o}\n        mode: "0600"` : `      - objectName: ${o}\n        fileName: keys/${o}`)).join('\n')}
  secretObjects:
    - secretName: acme-db
      labels: {team: acme}
      data:
        - objectName: db-password
          key: password
        - objectName: keys/api-key
          key: apikey
`;

interface Provider {
  proc: ManagedProcess;
  socket: string;
  control: string;
}

let tmp: TempRoot;
let acme: Provider;
const procs: ManagedProcess[] = [];

/** Our fake provider binary as the user's own provider process. */
async function startProvider(name: string, dir: string): Promise<Provider> {
  const storeFile = join(dir, `${name}-store.yaml`);
  await writeFile(storeFile, store);
  const socket = join(dir, `${name}.sock`);
  const { proc, control } = await startFakeProviderBin({ name, socket, store: storeFile, control: true });
  procs.push(proc);
  return { proc, socket, control: control! };
}

const cli = (args: string[]) => {
  const p = startBin('cli/main.js', ['scenarios', 'run', ...args]);
  procs.push(p);
  return p;
};

beforeAll(async () => {
  tmp = await makeTempRoot('byo');
  acme = await startProvider('acme', tmp.path);
  await writeFile(join(tmp.path, 'spc.yaml'), spc('acme'));
});

afterEach(async () => {
  // Every CLI run of a test is over (or killed) before the next test.
  for (const p of procs.filter((x) => x !== acme.proc)) await p.kill('SIGKILL');
});

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await tmp?.cleanup();
});

describe('scenarios run --provider', () => {
  it('runs every scenario it can against the external provider through the fault proxy; without --rotate-cmd rotation is skipped with the reason', async () => {
    const json = join(tmp.path, 'results.json');
    const junit = join(tmp.path, 'junit.xml');
    const p = cli(['--provider', `acme=${acme.socket}`, '--spc', join(tmp.path, 'spc.yaml'), '--pods', '20', '--json', json, '--junit', junit]);
    const code = await p.exited();
    expect(code, p.stdout() + p.stderr()).toBe(0);
    expect(p.stdout()).toMatch(/probed the external provider acme at .*acme\.sock .*: 2 object\(s\), 2 file\(s\)/);
    expect(p.stdout()).toMatch(/file db-password mode 0600 14 bytes sha256:[0-9a-f]{16}/);
    expect(p.stdout()).toMatch(/the nodes reach it through the fault proxy at .*acme\.sock \(control API http:\/\/127\.0\.0\.1:\d+\)/);
    expect(p.stdout()).toMatch(/6\/7 scenarios passed, 1 skipped, 1 steps? skipped on sim \(external provider acme\)/);
    // Reports show sizes and digests, never the secrets.
    expect(p.stdout()).not.toContain(secrets.password);
    expect(p.stdout()).not.toContain(secrets.apiKey);

    const run = JSON.parse(await readFile(json, 'utf8')) as RunResult;
    expect(run).toMatchObject({ passed: true, target: 'sim', externalProvider: { name: 'acme', socket: acme.socket } });
    const byName = new Map(run.scenarios.map((s) => [s.name, s]));
    expect([...byName.keys()]).toEqual(['mount', 'sync', 'rotation', 'pod-deletion', 'provider-outage', 'mount-storm', 'driver-restart']);
    for (const name of ['mount', 'sync', 'pod-deletion', 'provider-outage', 'mount-storm', 'driver-restart']) expect(byName.get(name), name).toMatchObject({ passed: true });
    const rotation = byName.get('rotation')!;
    expect(rotation).toMatchObject({ passed: false, skipped: true, skipReason: expect.stringMatching(/needs --rotate-cmd/) });
    expect(rotation.steps.every((st) => st.result === 'skipped' && st.skipReason === rotation.skipReason)).toBe(true);
    expect(byName.get('mount')!.steps.map((s) => s.figures)).toEqual(expect.arrayContaining([{ files: 2 }, { objects: 2 }]));
    // The SPC's own secretObjects drive the sync.
    expect(byName.get('sync')!.steps[0]!.figures).toMatchObject({ secretObjects: 'spc', secrets: 1 });
    // No --provider-cmd: the process is left alone, the outage is the proxy answering UNAVAILABLE.
    const outage = byName.get('provider-outage')!.steps;
    expect(outage.map((s) => s.result)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed', 'passed']);
    expect(outage[1]!.name).toMatch(/the fault proxy answers UNAVAILABLE; the process is left alone/);
    expect(acme.proc.child.exitCode).toBeNull();
    // The slow-provider round runs through the proxy: the calls pile up against the bound.
    const storm = byName.get('mount-storm')!.steps;
    expect(storm.map((s) => s.result)).toEqual(['passed', 'passed', 'passed', 'passed']);
    expect(storm[1]!.figures).toMatchObject({ pods: 20, runP50Ms: expect.any(Number), runP99Ms: expect.any(Number) });
    expect(storm[3]!.figures).toMatchObject({ heldAtBound: 16, providerMaxInflight: expect.any(Number) });
    expect(storm[3]!.figures.providerMaxInflight).toBeLessThanOrEqual(16);
    const restart = byName.get('driver-restart')!.steps;
    expect(restart.map((s) => s.result)).toEqual(['passed', 'passed', 'passed', 'skipped']);
    expect(restart[3]).toMatchObject({ name: 'rotation resumes after the restart', skipReason: expect.stringMatching(/needs --rotate-cmd/) });

    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="rotation" tests="6" failures="0" errors="0" skipped="6"/);
    expect(xml).toMatch(/<testsuite name="mount-storm" tests="4" failures="0" errors="0" skipped="0"/);
    expect(xml).toContain(`<skipped message="${restart[3]!.skipReason!.replace(/"/g, '&quot;')}"/>`);
    expect(xml).not.toContain('an earlier step of the scenario failed');
  });

  it('fails the checks when the provider answers differently than at the probe, and when it goes away', async () => {
    const fickle = await startProvider('fickle', tmp.path);
    const spcFile = join(tmp.path, 'fickle-spc.yaml');
    await writeFile(spcFile, spc('fickle'));
    const json = join(tmp.path, 'fickle.json');
    const p = cli(['--provider', `fickle=${fickle.socket}`, '--spc', spcFile, '--only', 'mount', '--only', 'pod-deletion', '--json', json]);
    // After the probe and before any pod mounts (the cluster takes a while to start), the
    // secret changes in the provider's backend.
    await p.waitForLine(/probed the external provider fickle/, 20_000);
    await new ControlClient(fickle.control).putObject('db-password', { contents: 'changed-behind-our-back' });
    // Once the mount check has failed, the provider goes away before the next scenario.
    await p.waitForLine(/✗ every file the provider answered/, 40_000);
    await fickle.proc.kill('SIGTERM');
    expect(await p.exited(), p.stdout() + p.stderr()).toBe(1);
    expect(p.stdout()).toMatch(/check failed: web: secrets\/db-password holds what the provider answered/);
    expect(p.stdout()).toMatch(/expected: 14 bytes sha256:[0-9a-f]{16}\n\s+seen:\s+23 bytes sha256:[0-9a-f]{16}/);
    expect(p.stdout()).toMatch(/could not start the cluster: cannot reach the external provider fickle at .*fickle\.sock: the connection failed; is it running\?/);
    expect(p.stdout()).toMatch(/0\/2 scenarios passed on sim \(external provider fickle\)/);
    expect(p.stdout()).not.toContain('changed-behind-our-back');
    const run = JSON.parse(await readFile(json, 'utf8')) as RunResult;
    expect(run.passed).toBe(false);
    expect(run.scenarios[0]!.steps.map((s) => s.result)).toEqual(['passed', 'failed', 'skipped', 'skipped']);
    expect(run.scenarios[0]!.steps[2]!.skipReason).toBe('an earlier step of the scenario failed');
    expect(run.scenarios[1]!.steps).toEqual([expect.objectContaining({ name: 'start the cluster', result: 'failed' })]);
  });

  it('exits 1 with one line when the probe Mount fails or nothing listens on the socket', async () => {
    const lacking = join(tmp.path, 'lacking-spc.yaml');
    await writeFile(lacking, spc('acme', ['db-password', 'not-in-the-store']));
    const deadSocket = join(tmp.path, 'dead.sock');
    // A socket file nobody serves on (a provider that crashed).
    const dead = await startProvider('dead', tmp.path);
    await dead.proc.kill('SIGKILL');
    const [missing, refused] = [cli(['--provider', `acme=${acme.socket}`, '--spc', lacking]), cli(['--provider', `acme=${deadSocket}`, '--spc', join(tmp.path, 'spc.yaml')])];
    expect(await missing.exited()).toBe(1);
    expect(missing.stderr()).toBe(`sscsi scenarios run: the external provider acme failed the probe Mount for ${lacking}: NOT_FOUND: object "not-in-the-store" not found in the fake provider's store\n`);
    expect(await refused.exited()).toBe(1);
    expect(refused.stderr()).toBe(`sscsi scenarios run: cannot reach the external provider acme at ${deadSocket}: the connection failed; is it running?\n`);
  });

  it('refuses bad usage with one line and exit code 2', async () => {
    const spcFile = join(tmp.path, 'spc.yaml');
    const cases: Array<[string[], RegExp]> = [
      [['--provider', `bad.name=${acme.socket}`, '--spc', spcFile], /invalid provider name "bad\.name": it must match/],
      [['--provider', `acme=${join(tmp.path, 'nope.sock')}`, '--spc', spcFile], /provider acme: no socket at .*nope\.sock; start the provider first/],
      [['--spc', spcFile], /--spc needs --provider NAME=SOCKET_PATH/],
      [['--provider', `other=${acme.socket}`, '--spc', spcFile], /spec\.provider is "acme" but --provider names "other"/],
      [['--provider', `acme=${acme.socket}`, '--spc', spcFile, '--target', 'kind'], /--provider runs on the simulated cluster only \(--target sim\)/],
    ];
    const runs = cases.map(([args]) => cli(args));
    const codes = await Promise.all(runs.map((r) => r.exited()));
    cases.forEach(([args, message], i) => {
      expect(codes[i], args.join(' ')).toBe(2);
      const err = runs[i]!.stderr();
      expect(err, args.join(' ')).toMatch(message);
      expect(err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    });
  });
});

describe('sscsi scenarios run --provider with a provider of other conventions', () => {
  it('runs mount and pod-deletion against the alt provider (vault/secrets parameters, files without modes)', async () => {
    const socket = join(tmp.path, 'alt.sock');
    const alt = await startAltProvider(socket);
    try {
      const file = join(tmp.path, 'alt-spc.yaml');
      await writeFile(file, 'apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata:\n  name: alt-creds\nspec:\n  provider: alt\n  parameters:\n    vault: team-a\n    secrets: "password, username"\n');
      const json = join(tmp.path, 'alt.json');
      const p = cli(['--provider', `alt=${socket}`, '--spc', file, '--only', 'mount', '--only', 'pod-deletion', '--json', json]);
      expect(await p.exited(), `${p.stdout()}\n${p.stderr()}`).toBe(0);
      const run = JSON.parse(await readFile(json, 'utf8')) as RunResult;
      expect(run.scenarios.map((s) => [s.name, s.passed])).toEqual([['mount', true], ['pod-deletion', true]]);
      expect(alt.calls).toBeGreaterThanOrEqual(11);
    } finally {
      await alt.close();
    }
  });
});
