/** The sscsi CLI as users run it. */
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let proc: ManagedProcess | undefined;
let tmp: TempRoot | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = undefined;
  await tmp?.cleanup();
  tmp = undefined;
});

describe('sscsi', () => {
  it('demo runs a pod with a secrets-store volume on the simulated cluster and exits 0', async () => {
    proc = startBin('cli/main.js', ['demo']);
    const code = await proc.exited();
    const out = proc.stdout();
    expect(code, `${out}\n${proc.stderr()}`).toBe(0);
    expect(out).toMatch(/pod Running in \d+ ms/);
    expect(out).toMatch(/✓ SecretProviderClassPodStatus default\/demo-app-default-demo-secrets recorded/);
    expect(out).toMatch(/✓ volume unpublished: no mount left/);
    expect(out).toMatch(/✓ SecretProviderClassPodStatus garbage-collected with its pod/);
    expect(out).toMatch(/demo passed/);
    // The demo shows sizes and modes, never the secret bytes themselves.
    expect(out).not.toContain('correct-horse-battery-staple');
  });

  it('rejects an unknown command with usage', async () => {
    proc = startBin('cli/main.js', ['frobnicate']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/unknown command "frobnicate"/);
    expect(proc.stderr()).toMatch(/Usage: sscsi/);
  });
});

describe('sscsi sim up', () => {
  it('writes sim.json, serves a working cluster with the driver flags after --, and tears down on SIGTERM', async () => {
    tmp = await makeTempRoot('sim-up');
    const state = join(tmp.path, 'state');
    proc = startBin('cli/main.js', ['sim', 'up', '--state-dir', state, '--republish-period', '30s', '--', '--enable-secret-rotation', '--rotation-poll-interval=5s']);
    await proc.waitForLine(/simulated cluster ready in \d+ ms/, 60_000);
    const sim = JSON.parse(await readFile(join(state, 'sim.json'), 'utf8')) as {
      kubeconfig: string;
      driver: { endpoint: string; metrics: string };
      providers: Array<{ name: string; socket: string; control: string }>;
    };
    expect(sim.kubeconfig).toBe(join(state, 'kubeconfig'));
    expect(sim.driver.endpoint).toMatch(/^unix:\/\/.*\/csi\.sock$/);
    expect(sim.driver.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(sim.providers).toEqual([expect.objectContaining({ name: 'fake', socket: expect.stringMatching(/fake\.sock$/), control: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) })]);
    expect(proc.stdout()).toContain(sim.kubeconfig);
    expect(proc.stdout()).toContain(sim.providers[0]!.control);
    // The driver got the flags after --.
    expect(await readFile(join(state, 'nodes', 'sim-node', 'driver.log'), 'utf8')).toMatch(/"rotation":true,"rotationPollIntervalMs":5000/);

    // A user's client against the kubeconfig: the provider answers, a pod with a volume runs.
    const state0 = (await (await fetch(`${sim.providers[0]!.control}/state`)).json()) as { objects: Array<{ name: string }> };
    expect(state0.objects.map((o) => o.name)).toEqual(expect.arrayContaining(['db-password', 'api-key']));
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));

    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    expect(proc.stderr()).toMatch(/stopped/);
    expect(await mountsUnder(state)).toEqual([]);
  });

  const images = inject('images');
  it.skipIf(!images.engine || images.error !== null)('sim up --runtime docker runs the driver and the provider as containers, and removes them on SIGTERM', async () => {
    tmp = await makeTempRoot('sim-up-docker');
    const state = join(tmp.path, 'state');
    proc = startBin('cli/main.js', ['sim', 'up', '--runtime', 'docker', '--state-dir', state]);
    await proc.waitForLine(/simulated cluster ready in \d+ ms/, 120_000);
    const sim = JSON.parse(await readFile(join(state, 'sim.json'), 'utf8')) as { providers: Array<{ control: string }> };
    const st = (await (await fetch(`${sim.providers[0]!.control}/state`)).json()) as { objects: unknown[] };
    expect(st.objects.length).toBeGreaterThan(0);
    expect(await readFile(join(state, 'nodes', 'sim-node', 'driver.log'), 'utf8')).toMatch(/CSI driver serving/);
    // The image each container was created from (Config.Image): `docker ps` shows an image
    // ID instead once another test file has re-tagged the image meanwhile (vitest runs the
    // image builds in parallel).
    const ours = (all = false) => {
      const ids = execFileSync('docker', ['ps', '-q', ...(all ? ['-a'] : []), '--filter', `label=secrets-store-csi-ts.sim-root=${state}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      if (ids.length === 0) return [];
      return execFileSync('docker', ['inspect', '--format', '{{.Config.Image}}', ...ids], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();
    };
    expect(ours()).toEqual(['secrets-store-csi-ts/driver:dev', 'secrets-store-csi-ts/fake-provider:dev']);
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    expect(await mountsUnder(state)).toEqual([]);
    expect(ours(true)).toEqual([]);
  });

  it('refuses bad options with exit code 2', async () => {
    for (const args of [['--nodes', '0'], ['--republish-period', 'soon'], ['--runtime', 'podman'], ['--bogus']]) {
      proc = startBin('cli/main.js', ['sim', 'up', ...args]);
      expect(await proc.exited(), args.join(' ')).toBe(2);
      expect(proc.stderr()).toMatch(/sscsi sim up/);
    }
  });
});
