/**
 * `sscsi conformance provider` as provider authors and CI run it: against our fake
 * provider healthy and in every fault mode (each fails exactly the checks it should),
 * against a second provider with other conventions, and against a broken one returning
 * `../x`. The kit runs as its own process through the CLI; the providers are real sockets.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KitResult } from '../../conformance/check.js';
import { startBin, type ManagedProcess, startFakeProviderBin } from '../../harness/managed-process.js';
import { startAltProvider } from '../helpers/alt-provider.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let tmp: TempRoot;
let provider: ManagedProcess;
let control: string;
const socket = () => join(tmp.path, 'fake.sock');

const spc = (provider: string, parameters: Record<string, string>) =>
  `apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata:\n  name: app\n  namespace: team\nspec:\n  provider: ${provider}\n  parameters:\n${Object.entries(parameters)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;

beforeAll(async () => {
  tmp = await makeTempRoot('conformance-provider');
  let url;
  ({ proc: provider, control: url } = await startFakeProviderBin({ name: 'fake', socket: socket(), control: true }));
  control = url!;
  await writeFile(join(tmp.path, 'fake-spc.yaml'), spc('fake', { objects: '- objectName: db-password\n  mode: "0600"\n- objectName: api-key\n  fileName: keys/api-key\n- objectName: db-username\n' }));
  await writeFile(join(tmp.path, 'fake-unknown.yaml'), spc('fake', { objects: '- objectName: no-such-object\n' }));
});

afterAll(async () => {
  await provider?.kill('SIGTERM');
  await tmp?.cleanup();
});

async function kit(args: string[]): Promise<{ code: number | string; out: string; err: string; result: KitResult | undefined }> {
  const json = join(tmp.path, `result-${Math.random().toString(36).slice(2)}.json`);
  const p = startBin('cli/main.js', ['conformance', 'provider', ...args, '--json', json]);
  const code = await p.exited();
  const result = await readFile(json, 'utf8').then((t) => JSON.parse(t) as KitResult, () => undefined);
  return { code, out: p.stdout(), err: p.stderr(), result };
}

const failedIds = (r: KitResult | undefined) => r!.checks.filter((c) => c.result === 'failed').map((c) => c.id).sort();
const allIds = ['version-answers', 'version-semver', 'mount-succeeds', 'object-versions', 'file-paths', 'file-modes', 'permission', 'deterministic', 'current-object-version', 'secrets-null', 'secrets-map', 'sa-tokens', 'unknown-object', 'concurrent-mounts', 'reply-size', 'deadline'];

async function setFault(fault: Record<string, unknown> | null): Promise<void> {
  const res = await fetch(`${control}/faults`, fault ? { method: 'PUT', body: JSON.stringify(fault) } : { method: 'DELETE' });
  expect(res.ok).toBe(true);
}

describe('sscsi conformance provider against the fake provider', () => {
  const fakeArgs = () => ['--socket', socket(), '--spc', join(tmp.path, 'fake-spc.yaml'), '--unknown-spc', join(tmp.path, 'fake-unknown.yaml')];

  it('passes every check when healthy, with the table, JUnit and JSON', async () => {
    const junit = join(tmp.path, 'provider.xml');
    const r = await kit([...fakeArgs(), '--junit', junit]);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.result!.checks.map((c) => c.id)).toEqual(allIds);
    expect(failedIds(r.result)).toEqual([]);
    expect(r.result!.checks.every((c) => c.result === 'passed')).toBe(true);
    expect(r.out).toMatch(/16 passed, 0 failed, 0 skipped of 16 provider checks .*CONFORMS/);
    expect(r.result!.checks.find((c) => c.id === 'permission')!.evidence).toBe('2 follow the permission; 1 set their own (db-password=0600)');
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="sscsi conformance provider \(unix:\/\/.*fake\.sock\)" tests="16" failures="0"/);
    expect(xml).toContain('<testsuite name="provider conformance: limits" tests="2" failures="0"');
  });

  it('skips unknown-object, saying why, without --unknown-spc', async () => {
    const r = await kit(['--socket', socket(), '--spc', join(tmp.path, 'fake-spc.yaml'), '--only', 'unknown-object', '--only', 'mount-succeeds']);
    expect(r.code).toBe(0);
    expect(r.result!.checks.map((c) => [c.id, c.result])).toEqual([['mount-succeeds', 'passed'], ['unknown-object', 'skipped']]);
    expect(r.result!.checks[1]!.skipReason).toMatch(/give --unknown-spc FILE/);
  });

  // Each fault mode of the fake provider, and exactly the checks it must fail.
  const contentChecks = ['mount-succeeds', 'object-versions', 'file-paths', 'file-modes', 'permission', 'deterministic', 'current-object-version', 'secrets-null', 'secrets-map', 'sa-tokens', 'unknown-object', 'concurrent-mounts'];
  // Deadlines and timeouts are generous except where the fault is about time, so a loaded
  // machine cannot fail a check the fault does not aim at.
  const cases: Array<[string, Record<string, unknown>, string[], string[]]> = [
    ['bad-path (a file "../escaped-secret")', { mode: 'bad-path' }, ['file-paths'], []],
    ['oversize (a 5 MiB file)', { mode: 'oversize' }, ['reply-size'], []],
    ['latency above the deadline', { mode: 'latency', latencyMs: 600 }, ['deadline'], ['--deadline', '300ms']],
    ['error (an error code in the reply)', { mode: 'error', code: 'Boom' }, contentChecks, []],
    ['unavailable', { mode: 'unavailable' }, allIds, []],
    ['hang', { mode: 'hang' }, allIds, ['--timeout', '2s']],
  ];
  for (const [label, fault, expected, timing] of cases) {
    it(`fault ${label} fails exactly ${expected.length === allIds.length ? 'every check' : expected.join(', ')}`, async () => {
      await setFault(fault);
      try {
        const r = await kit([...fakeArgs(), '--concurrency', '10', ...timing]);
        expect(r.code, `${r.out}\n${r.err}`).toBe(1);
        expect(failedIds(r.result)).toEqual([...expected].sort());
        expect(r.out).toMatch(/DOES NOT CONFORM/);
        if (fault.mode === 'oversize') expect(r.result!.checks.find((c) => c.id === 'reply-size')!.evidence).toMatch(/the reply is 5\.0 MiB, over the receive limit of 4\.0 MiB: start the driver with --max-call-recv-msg-size=6291456/);
        if (fault.mode === 'bad-path') expect(r.result!.checks.find((c) => c.id === 'file-paths')!.evidence).toContain('"../escaped-secret" (has a ".." element)');
      } finally {
        await setFault(null);
      }
    });
  }
});

describe('sscsi conformance provider against another provider', () => {
  const altSpc = () => join(tmp.path, 'alt-spc.yaml');
  const altUnknown = () => join(tmp.path, 'alt-unknown.yaml');
  beforeAll(async () => {
    await writeFile(altSpc(), spc('alt', { vault: 'team-a', secrets: 'password, username, tls-cert' }));
    await writeFile(altUnknown(), spc('alt', { vault: 'team-a', secrets: 'password, nope' }));
  });

  it('passes with different parameter conventions, unset modes and error codes in the reply', async () => {
    const alt = await startAltProvider(join(tmp.path, 'alt.sock'));
    try {
      const r = await kit(['--socket', join(tmp.path, 'alt.sock'), '--spc', altSpc(), '--unknown-spc', altUnknown()]);
      expect(r.code, `${r.out}\n${r.err}`).toBe(0);
      expect(failedIds(r.result)).toEqual([]);
      const evidence = Object.fromEntries(r.result!.checks.map((c) => [c.id, c.evidence]));
      expect(evidence['version-semver']).toBe('runtime_version=v2.3.1');
      expect(evidence.permission).toBe('3 leave the mode to the driver (0)');
      expect(evidence['unknown-object']).toBe('error code "SecretNotFound"');
      expect(alt.calls).toBeGreaterThanOrEqual(50);
    } finally {
      await alt.close();
    }
  });

  it('catches the broken variant that returns "../x": file-paths fails and nothing else', async () => {
    const alt = await startAltProvider(join(tmp.path, 'alt-broken.sock'), { escape: true });
    try {
      const r = await kit(['--socket', join(tmp.path, 'alt-broken.sock'), '--spc', altSpc(), '--unknown-spc', altUnknown()]);
      expect(r.code).toBe(1);
      expect(failedIds(r.result)).toEqual(['file-paths']);
      expect(r.result!.checks.find((c) => c.id === 'file-paths')!.evidence).toContain('"../x" (has a ".." element)');
    } finally {
      await alt.close();
    }
  });
});

describe('sscsi conformance provider usage', () => {
  it('exits 2 with one clear line for bad usage, 1 when the socket is not there', async () => {
    let r = await kit(['--socket', socket()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--socket and --spc are required/);
    await writeFile(join(tmp.path, 'not-spc.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
    r = await kit(['--socket', socket(), '--spc', join(tmp.path, 'not-spc.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/holds no SecretProviderClass/);
    r = await kit(['--socket', socket(), '--spc', join(tmp.path, 'fake-spc.yaml'), '--only', 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown check frobnicate; the checks are version-answers/);
    r = await kit(['--socket', join(tmp.path, 'nothing.sock'), '--spc', join(tmp.path, 'fake-spc.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing\.sock is not a unix socket: start the provider first/);
  });
});
