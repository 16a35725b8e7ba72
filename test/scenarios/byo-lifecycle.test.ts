/**
 * The whole scenario set against a provider we did not design: the e2e-style provider
 * (upstream's e2e provider's conventions — `:authority` must be localhost, `array:` objects,
 * rotation switched over HTTP, tokens validated on demand), started by the harness through
 * `--provider-cmd` and rotated through `--rotate-cmd`, with an SPC that has no secretObjects.
 * All seven scenarios run, no step skipped; the outage is a real kill -9 and restart of
 * the provider's process; the provider's log and the rotate command's output are kept.
 */
import * as grpc from '@grpc/grpc-js';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../harness/free-port.js';
import { root, startBin, startCommand, waitForFile, type ManagedProcess } from '../../harness/managed-process.js';
import { loadProviderProto } from '../../proto/load.js';
import type { RunResult } from '../../scenarios/report.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const spc = `apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: e2e-provider
spec:
  provider: e2e-provider
  parameters:
    objects: |
      array:
        - |
          objectName: foo
          objectType: secret
        - |
          objectName: fookey
          objectType: key
`;

const providerBin = join(root, 'dist', 'fake-providers', 'e2e-style', 'main.js');
/** Upstream's e2e provider is rotated with `curl 127.0.0.1:8080/rotation?rotated=true`; this alternates, by SSCSI_ROTATION. */
const rotateCmd = (port: number) => `curl -sf "127.0.0.1:${port}/rotation?rotated=$([ $((SSCSI_ROTATION % 2)) = 1 ] && echo true || echo false)"`;

let tmp: TempRoot;
const procs: ManagedProcess[] = [];

beforeAll(async () => {
  tmp = await makeTempRoot('byo-life');
  await writeFile(join(tmp.path, 'spc.yaml'), spc);
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await tmp?.cleanup();
});

function mount(socket: string, authority: string) {
  const client = new (loadProviderProto().v1alpha1.CSIDriverProvider)(`unix://${socket}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });
  const attributes = JSON.stringify({ objects: 'array:\n  - |\n    objectName: foo\n    objectType: secret\n', 'csi.storage.k8s.io/serviceAccount.tokens': '{"aud":{"token":"t0k","expirationTimestamp":"2030-01-01T00:00:00Z"}}' });
  return new Promise<{ files: Array<{ path: string; contents: Buffer }>; object_version: Array<{ id: string; version: string }> }>((resolve, reject) =>
    client.Mount({ attributes, secrets: '{}', permission: '420', target_path: '/t' }, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      return err ? reject(err) : resolve(res as never);
    }),
  );
}

describe('the e2e-style provider', () => {
  it("keeps upstream's e2e provider's conventions: :authority, array: objects, rotation and token validation over HTTP", async () => {
    const socket = join(tmp.path, 'conv.sock');
    const port = await freePort();
    const p = startCommand(process.execPath, [providerBin, '--socket', socket, '--port', String(port)]);
    procs.push(p);
    await p.waitForLine(/"msg":"serving"/);
    await expect(mount(socket, 'example.com')).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/unexpected :authority "example.com"/) });
    expect((await fetch(`http://127.0.0.1:${port}/validate-token-requests`)).status).toBe(400);
    const before = await mount(socket, 'localhost');
    expect(before.files.map((f) => [f.path, f.contents.toString()])).toEqual([['foo', 'secret']]);
    expect(before.object_version).toEqual([{ id: 'secret/foo', version: 'v1' }]);
    expect((await fetch(`http://127.0.0.1:${port}/validate-token-requests?audience=aud`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/validate-token-requests?audience=other`)).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port}/rotation?rotated=true`)).status).toBe(200);
    const after = await mount(socket, 'localhost');
    expect(after.files[0]!.contents.toString()).toBe('rotated');
    expect(after.object_version).toEqual([{ id: 'secret/foo', version: 'v2' }]);
    await p.kill('SIGTERM');
  });
});

describe('scenarios run --provider-cmd --rotate-cmd', () => {
  it('runs all seven scenarios against the e2e-style provider, none skipped, a real kill -9 for the outage', async () => {
    const socket = join(tmp.path, 'e2e.sock');
    const port = await freePort();
    const json = join(tmp.path, 'e2e.json');
    const providerCmd = `'${process.execPath}' '${providerBin}' --endpoint 'unix://${socket}' --port ${port}`;
    const p = startBin('cli/main.js', ['scenarios', 'run', '--provider', `e2e-provider=${socket}`, '--spc', join(tmp.path, 'spc.yaml'), '--provider-cmd', providerCmd, '--rotate-cmd', rotateCmd(port), '--pods', '20', '--json', json]);
    procs.push(p);
    const code = await p.exited();
    expect(code, p.stdout() + p.stderr()).toBe(0);
    expect(p.stdout()).toMatch(/7\/7 scenarios passed on sim \(external provider e2e-provider\)/);
    const run = JSON.parse(await readFile(json, 'utf8')) as RunResult;
    expect(run.passed).toBe(true);
    expect(run.scenarios.map((s) => s.name)).toEqual(['mount', 'sync', 'rotation', 'pod-deletion', 'provider-outage', 'mount-storm', 'driver-restart']);
    const skipped = run.scenarios.flatMap((s) => s.steps.filter((st) => st.result !== 'passed').map((st) => `${s.name}: ${st.name} ${st.result}`));
    expect(skipped).toEqual([]);
    const byName = new Map(run.scenarios.map((s) => [s.name, s]));
    // The SPC has no secretObjects: sync derives them from the provider's files, and says so.
    expect(byName.get('sync')!.steps[0]!.figures).toMatchObject({ secretObjects: 'derived', secrets: 1 });
    expect(p.stdout()).toMatch(/has no spec\.secretObjects: syncing a copy of the SPC with one derived from the provider's files, Secret e2e-provider-synced with keys foo, fookey/);
    // Rotation judged by what the provider answers: foo changed (v1 → v2), fookey did not.
    expect(p.stdout()).toMatch(/--rotate-cmd \(SSCSI_ROTATION=1\): files changed foo; versions secret\/foo@v2/);
    expect(byName.get('rotation')!.steps[1]!.figures).toMatchObject({ changedFiles: 1 });
    expect(byName.get('rotation')!.steps[2]!.figures).toMatchObject({ unchangedFiles: 1 });
    expect(byName.get('provider-outage')!.steps[1]!.name).toMatch(/^kill -9 the provider \(e2e-provider, started by --provider-cmd\)/);
    expect(byName.get('mount-storm')!.steps[3]!.figures).toMatchObject({ heldAtBound: 16 });
    // The provider's log and the rotate command's output are kept: it was started twice (the outage), rotated three times.
    const logDir = /logs of the provider and the rotate command: (\S+)/.exec(p.stdout())![1]!;
    expect((await readdir(logDir)).sort()).toEqual(expect.arrayContaining(['provider-e2e-provider.log', 'rotate.log']));
    const providerLog = await readFile(join(logDir, 'provider-e2e-provider.log'), 'utf8');
    expect(providerLog.match(/"msg":"serving"/g)).toHaveLength(2);
    expect(await readFile(join(logDir, 'rotate.log'), 'utf8')).toMatch(/rotation 1: exit 0\nrotated=true\n[\s\S]*rotation 3: exit 0\nrotated=true/);
    await rm(logDir, { recursive: true, force: true });
    // The harness stopped the provider it started.
    await waitForFile(socket, 1).then(
      () => expect.fail(`${socket} is still there`),
      () => undefined,
    );
  });

  it('says what went wrong when --provider-cmd exits before serving', async () => {
    const p = startBin('cli/main.js', ['scenarios', 'run', '--provider', `e2e-provider=${join(tmp.path, 'never.sock')}`, '--spc', join(tmp.path, 'spc.yaml'), '--provider-cmd', 'echo cannot open the vault >&2; exit 3']);
    procs.push(p);
    expect(await p.exited()).toBe(1);
    expect(p.stderr()).toMatch(/--provider-cmd exited \(3\) before serving on .*never\.sock; its output:\ncannot open the vault/);
  });
});
