/**
 * `sscsi conformance driver` as CI gates run it: against our driver started by the kit
 * (every check passes, nothing left behind), and against other "drivers" the user starts —
 * a proxy in front of our driver that logs the volume's secrets, and one that leaves files
 * in the target after a failed mount. The kit runs through its CLI; the drivers are real
 * processes and sockets.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KitResult } from '../../conformance/check.js';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { root, startBin, waitForFile, type ManagedProcess } from '../../harness/managed-process.js';
import { beyondUpstreamIds } from './beyond-upstream.js';
import { startCsiProxy, type CsiProxy, type ProxyFlaw } from '../helpers/csi-proxy.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let tmp: TempRoot | undefined;
const procs: ManagedProcess[] = [];
let proxy: CsiProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
  await tmp?.cleanup();
  tmp = undefined;
});

const failedIds = (r: KitResult) => r.checks.filter((c) => c.result === 'failed').map((c) => c.id).sort();

describe.skipIf(!isRoot)('sscsi conformance driver', () => {
  it('passes every check against our driver started by the kit, and leaves nothing behind', async () => {
    tmp = await makeTempRoot('conformance-driver');
    const state = join(tmp.path, 'world');
    const json = join(tmp.path, 'driver.json');
    const junit = join(tmp.path, 'driver.xml');
    const kit = startBin('cli/main.js', ['conformance', 'driver', '--state-dir', state, '--json', json, '--junit', junit]);
    procs.push(kit);
    const code = await kit.exited();
    expect(code, `${kit.stdout()}\n${kit.stderr()}`).toBe(0);
    const result = JSON.parse(await readFile(json, 'utf8')) as KitResult;
    expect(result.checks).toHaveLength(41);
    expect(failedIds(result)).toEqual([]);
    expect(result.checks.filter((c) => c.result === 'skipped')).toEqual([]);
    expect(result.verdict).toEqual({ conforms: true, failed: [], extensionsLacked: [] });
    // The checks of this project's extensions say so; ours has them all.
    expect(result.checks.filter((c) => c.beyondUpstream).map((c) => c.id).sort()).toEqual(beyondUpstreamIds);
    expect(kit.stdout()).toMatch(/41 passed, 0 failed, 0 skipped of 41 driver checks .*: CONFORMS$/m);
    const byId = Object.fromEntries(result.checks.map((c) => [c.id, c.evidence]));
    expect(byId['publish-tmpfs']).toMatch(/one tmpfs mount at the target/);
    expect(byId['provider-deadline']).toMatch(/^DEADLINE_EXCEEDED after \d+ ms \(deadline 3000 ms\)/);
    expect(byId['no-secret-in-output']).toMatch(/searched for \d+ secret values, raw and base64: none found/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="sscsi conformance driver \(secrets-store-csi-driver \(this package\)\)" tests="41" failures="0"/);
    // Everything the kit published was unpublished; its driver and providers are gone.
    expect(await mountsUnder(state)).toEqual([]);
    expect(await stat(join(state, 'providers', 'conformance.sock')).catch(() => undefined)).toBeUndefined();
  });

  it('starts any driver binary taking the upstream flags (--driver-bin, --driver-arg) and reads its output', async () => {
    tmp = await makeTempRoot('conformance-bin');
    const bin = join(tmp.path, 'other-driver');
    const flagsSeen = join(tmp.path, 'flags');
    // Another build of a driver: a launcher script, as a packaged binary would be.
    await writeFile(bin, `#!/bin/sh\necho "$@" > ${flagsSeen}\nexec "${process.execPath}" "${join(root, 'dist', 'driver', 'main.js')}" "$@"\n`, { mode: 0o755 });
    const json = join(tmp.path, 'driver.json');
    const only = ['plugin-info', 'publish-tmpfs', 'publish-contents', 'unpublish', 'no-secret-in-output'];
    const kit = startBin('cli/main.js', ['conformance', 'driver', '--driver-bin', bin, '--driver-arg=--log-format-json', '--json', json, ...only.flatMap((id) => ['--only', id])]);
    procs.push(kit);
    expect(await kit.exited(), `${kit.stdout()}\n${kit.stderr()}`).toBe(0);
    const result = JSON.parse(await readFile(json, 'utf8')) as KitResult;
    expect(result.target).toBe(bin);
    expect(result.checks.map((c) => [c.id, c.result])).toEqual(only.map((id) => [id, 'passed']));
    const flags = await readFile(flagsSeen, 'utf8');
    for (const f of ['--endpoint=unix://', '--nodeid=conformance-node', '--provider-volume=', '--kubeconfig=', '--log-format-json']) expect(flags).toContain(f);
  });

  it('on Ctrl-C finishes the check running, skips the rest, unpublishes, stops its driver and exits 130', async () => {
    tmp = await makeTempRoot('conformance-sigint');
    const state = join(tmp.path, 'world');
    const json = join(tmp.path, 'driver.json');
    const kit = startBin('cli/main.js', ['conformance', 'driver', '--state-dir', state, '--json', json]);
    procs.push(kit);
    await kit.waitForLine(/✓ publish-tmpfs/, 60_000);
    // The volume the publish checks share is mounted now.
    expect((await mountsUnder(state)).length).toBeGreaterThan(0);
    kit.child.kill('SIGINT');
    expect(await kit.exited(), `${kit.stdout()}\n${kit.stderr()}`).toBe(130);
    expect(kit.stdout()).toMatch(/INTERRUPTED/);
    const result = JSON.parse(await readFile(json, 'utf8')) as KitResult;
    expect(result.interrupted).toBe(true);
    expect(result.passed).toBe(false);
    expect(result.checks.at(-1)).toMatchObject({ id: 'no-secret-in-output', result: 'skipped', skipReason: 'interrupted before this check ran' });
    expect(await mountsUnder(state)).toEqual([]);
    // No process of the kit's world is left (the driver had --kubeconfig=<state>/...).
    const left: string[] = [];
    for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes(state)) left.push(cmd.replace(/\0/g, ' '));
    }
    expect(left).toEqual([]);
  });

  /** The kit waits on --endpoint; the test starts our driver with the flags it printed, behind a flawed proxy. */
  async function againstProxy(flaw: ProxyFlaw, only: string[] = []): Promise<{ code: number | string; result: KitResult; out: string }> {
    tmp = await makeTempRoot(`conformance-${flaw}`);
    const state = join(tmp.path, 'world');
    const json = join(tmp.path, 'driver.json');
    const log = join(tmp.path, 'proxy.log');
    const proxySocket = join(tmp.path, 'proxy.sock');
    const kit = startBin('cli/main.js', ['conformance', 'driver', '--endpoint', `unix://${proxySocket}`, '--driver-log', log, '--state-dir', state, '--wait', '60s', '--json', json, ...only.flatMap((id) => ['--only', id])]);
    procs.push(kit);
    await kit.waitForLine(/^waiting up to 60 s for unix:\/\//, 30_000);
    // The printed flags, with the endpoint moved behind the proxy.
    const flags = kit
      .stdout()
      .split('\n')
      .map((l) => l.trim().replace(/ \\$/, ''))
      .filter((l) => l.startsWith('--'));
    expect(flags).toContain(`--endpoint=unix://${proxySocket}`);
    expect(flags).toContain(`--kubeconfig=${join(state, 'driver-kubeconfig')}`);
    const inner = join(tmp.path, 'inner.sock');
    const driver = startBin('driver/main.js', [...flags.filter((f) => !f.startsWith('--endpoint=')), `--endpoint=unix://${inner}`, '--metrics-addr=127.0.0.1:0']);
    procs.push(driver);
    await waitForFile(inner, 30_000);
    proxy = await startCsiProxy({ socket: proxySocket, inner, log, flaw });
    const code = await kit.exited();
    const result = JSON.parse(await readFile(json, 'utf8')) as KitResult;
    return { code, result, out: `${kit.stdout()}\n${kit.stderr()}` };
  }

  it('catches a driver that logs the volume secrets: no-secret-in-output fails, naming what leaked and not the bytes', async () => {
    const { code, result, out } = await againstProxy('log-secret');
    expect(code, out).toBe(1);
    expect(failedIds(result)).toEqual(['no-secret-in-output']);
    const evidence = result.checks.find((c) => c.id === 'no-secret-in-output')!.evidence;
    expect(evidence).toMatch(/contains nodePublish secret username, nodePublish secret password$/);
    // The report names the leak, never the leaked value.
    const leaked = (await readFile(join(tmp!.path, 'proxy.log'), 'utf8')).match(/"password":"([^"]+)"/)![1]!;
    expect(out).not.toContain(leaked);
    expect(JSON.stringify(result)).not.toContain(leaked);
  });

  it('catches a driver that leaves files behind after a failed mount: every failure check fails', async () => {
    const { code, result, out } = await againstProxy('no-cleanup');
    expect(code, out).toBe(1);
    expect(failedIds(result)).toEqual(['file-path-attack', 'missing-spc', 'provider-deadline', 'provider-error', 'provider-name-attack', 'provider-unavailable']);
    expect(result.checks.find((c) => c.id === 'missing-spc')!.evidence).toMatch(/the target was left not mounted, entries partial-secret: a kubelet retry would not start fresh/);
  });
});

describe('sscsi conformance driver usage', () => {
  it('exits 2 for contradictory flags, 1 when the driver binary cannot run', async () => {
    let p = startBin('cli/main.js', ['conformance', 'driver', '--endpoint', 'unix:///tmp/x.sock', '--driver-bin', '/bin/true']);
    procs.push(p);
    expect(await p.exited()).toBe(2);
    expect(p.stderr()).toMatch(/--endpoint is a driver you start yourself: it does not go with --driver-bin/);
    p = startBin('cli/main.js', ['conformance', 'driver', '--endpoint', '/tmp/x.sock']);
    procs.push(p);
    expect(await p.exited()).toBe(2);
    expect(p.stderr()).toMatch(/--endpoint must be unix:\/\/\/path/);
    p = startBin('cli/main.js', ['conformance', 'driver', '--driver-bin', '/nonexistent/driver']);
    procs.push(p);
    expect(await p.exited()).toBe(1);
    expect(p.stderr()).toMatch(/--driver-bin \/nonexistent\/driver is not an executable file/);
    // A binary that exits at once: the kit says so instead of waiting.
    p = startBin('cli/main.js', ['conformance', 'driver', '--driver-bin', '/bin/false', '--wait', '30s']);
    procs.push(p);
    expect(await p.exited()).toBe(1);
    expect(p.stderr()).toMatch(/the driver exited \(1\) before serving/);
  });
});
