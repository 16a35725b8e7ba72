/**
 * `sscsi conformance sanity` (what `npm run sanity` runs) against our driver: csi-sanity
 * v5.4.0 from `npm run peers`, through the CLI, with its JUnit read back here. The specs
 * that must pass and the only ones that may be skipped are spelled below from csi-test's
 * own spec names (pkg/sanity/identity.go, node.go), not taken from the runner.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { root, startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { peer } from '../../harness/peers.js';

/** Why csi-sanity cannot run here (from `.peers/status.json`); undefined when it can. */
const missing = peer('csi-sanity').missing;

/** The specs our driver must pass (csi-test v5.4.0). */
const mustPass = [
  'Identity Service GetPluginCapabilities should return appropriate capabilities',
  'Identity Service Probe should return appropriate information',
  'Identity Service GetPluginInfo should return appropriate information',
  'Node Service NodeGetCapabilities should return appropriate capabilities',
  'Node Service NodeGetInfo should return appropriate values',
  'Node Service NodePublishVolume should fail when no volume id is provided',
  'Node Service NodePublishVolume should fail when no target path is provided',
  'Node Service NodePublishVolume should fail when no volume capability is provided',
  'Node Service NodeUnpublishVolume should fail when no volume id is provided',
  'Node Service NodeUnpublishVolume should fail when no target path is provided',
  'Node Service NodeStageVolume should fail when no volume id is provided',
  'Node Service NodeStageVolume should fail when no staging target path is provided',
  'Node Service NodeUnstageVolume should fail when no volume id is provided',
  'Node Service NodeUnstageVolume should fail when no staging target path is provided',
].sort();

/** The specs the runner may skip by name: the Controller service, and what needs CreateVolume. */
const skippedByName = [
  /^Controller Service |\[Controller Server\]|GroupController/,
  /^Node Service should work$/,
  /^Node Service NodeExpandVolume should work if node-expand is called after node-publish$/,
  /^Node Service should be idempotent$/,
  /^Node Service NodeUnpublishVolume should remove target path$/,
  /^Node Service NodeStageVolume should fail when no volume capability is provided$/,
];

/** The specs csi-sanity skips by itself, for capabilities the driver does not advertise. */
const selfSkipped: Array<[RegExp, string]> = [
  [/^Node Service NodeGetVolumeStats /, 'NodeGetVolume not supported'],
  [/^Node Service NodeExpandVolume should fail /, 'NodeExpandVolume not supported'],
];

interface Case {
  name: string;
  status: string;
  skipped?: string;
}

/** The testcases of csi-sanity's (Ginkgo's) JUnit: name without "[It] ", status, skip message. */
function junitCases(xml: string): Case[] {
  const unescape = (s: string) => s.replace(/&#34;|&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return [...xml.matchAll(/<testcase name="([^"]*)"[^>]*status="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)].map((m) => {
    const skipped = /<skipped message="([^"]*)"/.exec(m[3]!)?.[1];
    return { name: unescape(m[1]!).replace(/^\[It\] /, ''), status: m[2]!, ...(skipped !== undefined ? { skipped: unescape(skipped) } : {}) };
  });
}

let tmp: TempRoot | undefined;
const procs: ManagedProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
  await tmp?.cleanup();
  tmp = undefined;
});

describe.skipIf(missing !== undefined)(`sscsi conformance sanity${missing ? ` (peer csi-sanity not built: ${missing})` : ''}`, () => {
  it('passes csi-sanity against our driver with no failure, skipping only the node-only specs', async () => {
    tmp = await makeTempRoot('sanity');
    const state = join(tmp.path, 'world');
    const junit = join(tmp.path, 'sanity.xml');
    const cli = startBin('cli/main.js', ['conformance', 'sanity', '--state-dir', state, '--junit', junit]);
    procs.push(cli);
    const code = await cli.exited();
    expect(code, `${cli.stdout()}\n${cli.stderr()}`).toBe(0);
    expect(cli.stdout()).toMatch(/^csi-sanity against secrets-store-csi-driver \(this package\): 14 passed, 0 failed, \d+ skipped .*: PASS$/m);

    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="CSI Driver Test Suite"[^>]* errors="0" failures="0"/);
    const cases = junitCases(xml);
    expect(cases.length).toBeGreaterThan(mustPass.length);
    expect(cases.filter((c) => c.status === 'failed' || c.status === 'panicked')).toEqual([]);
    expect(cases.filter((c) => c.status === 'passed').map((c) => c.name).sort()).toEqual(mustPass);
    const skipped = cases.filter((c) => c.status === 'skipped');
    // Skipped by -ginkgo.skip: Ginkgo's message is a bare "skipped". Only the specs named above.
    const byName = skipped.filter((c) => c.skipped === 'skipped').map((c) => c.name);
    expect(byName.filter((n) => !skippedByName.some((re) => re.test(n)))).toEqual([]);
    for (const re of skippedByName) expect(byName.some((n) => re.test(n)), `a spec matching ${re} was skipped`).toBe(true);
    // Skipped by csi-sanity itself ("skipped - <reason>"): only for capabilities not advertised.
    const bySelf = skipped.filter((c) => c.skipped !== 'skipped');
    expect(bySelf.length).toBe(7);
    for (const c of bySelf) expect(selfSkipped.some(([re, reason]) => re.test(c.name) && c.skipped === `skipped - ${reason}`), `${c.name}: ${c.skipped}`).toBe(true);
    // Pending in csi-test itself, not by us.
    expect(cases.filter((c) => c.status === 'pending').map((c) => c.name)).toEqual([
      'Controller Service [Controller Server] ListVolumes pagination should detect volumes added between pages and accept tokens when the last volume from a page is deleted',
    ]);

    // The world is gone: nothing mounted, csi-sanity's mount and staging dirs removed, driver stopped.
    expect(await mountsUnder(state)).toEqual([]);
    expect((await readdir(join(state, 'sanity'))).sort()).toEqual(['csi-sanity.log', 'ginkgo-report.json', 'volume-parameters.yaml']);
    expect(await readFile(join(state, 'sanity', 'volume-parameters.yaml'), 'utf8')).toMatch(/^secretProviderClass: csi-sanity$/m);
  });
});

describe('sscsi conformance sanity usage', () => {
  it('prints its usage with the skips and their reasons on --help, and exits 2 on an unknown flag', async () => {
    const help = startBin('cli/main.js', ['conformance', 'sanity', '--help']);
    procs.push(help);
    expect(await help.exited()).toBe(0);
    expect(help.stdout()).toContain('Usage: sscsi conformance sanity');
    expect(help.stdout()).toMatch(/ {2}should\.be\.idempotent\n {6}starts with CreateVolume/);
    const bad = startBin('cli/main.js', ['conformance', 'sanity', '--driverbin', 'x']);
    procs.push(bad);
    expect(await bad.exited()).toBe(2);
    expect(bad.stderr()).toMatch(/^sscsi conformance sanity: Unknown option '--driverbin'/m);
  });

  it('says where csi-sanity should be and how to build it when it is missing (exit 1)', async () => {
    tmp = await makeTempRoot('sanity-missing');
    const cli = startBin('cli/main.js', ['conformance', 'sanity', '--sanity-bin', join(tmp.path, 'csi-sanity'), '--junit', join(tmp.path, 'x.xml')]);
    procs.push(cli);
    expect(await cli.exited()).toBe(1);
    expect(cli.stderr()).toContain(`csi-sanity is not at ${join(tmp.path, 'csi-sanity')}: build it with \`npm run peers\``);
  });
});
