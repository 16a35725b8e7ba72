/**
 * The simulated cluster with `runtime: 'docker'`: the driver and the fake provider as
 * containers of the kind/Dockerfile.* images on a local Docker engine, the simulated kubelet
 * on the host publishing through the socket in the shared plugin dir. What Bidirectional
 * propagation is for: the tmpfs the driver mounts inside its container is seen on the host
 * at the kubelet's target path, files included; deleting the pod unmounts it on the host;
 * the mounts outlive a killed driver container, and the restarted one unpublishes them.
 * Needs an engine and the images (test/helpers/image-setup.ts builds them); skipped, saying
 * why, without them.
 */
import { execFileSync } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { driverImage, fakeProviderImage } from '../../kind/bootstrap/images.js';
import { imagePresent, simRootLabel } from '../../cluster/sim/container-component.js';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { podManifest, spcManifest } from '../../scenarios/fixtures.js';

const outcome = inject('images');
const images = outcome.engine !== '' && outcome.error === null && imagePresent(driverImage) && imagePresent(fakeProviderImage);
if (!images) console.warn(`docker-runtime.test: skipped — ${outcome.error ?? 'the images are missing'}`);

let c: StartedSimCluster;
const ns = 'default';
const pod = (name: string) => podManifest(ns, name, [{ name: 'secrets', spc: 'app' }]);
const targetOf = async (name: string) => {
  const p = await c.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name });
  return c.nodes[0]!.kubelet.targetPath(p!.metadata.uid!, 'secrets');
};

describe.skipIf(!images)('the simulated cluster on the docker runtime', () => {
  beforeAll(async () => {
    c = await new SimCluster({ runtime: 'docker', kubeletTimings: { backoffInitialMs: 200, backoffMaxMs: 1000 } }).start();
    await c.apply(spcManifest(ns, 'app', [{ objectName: 'db-password' }, { objectName: 'api-key' }]));
  }, 120_000);
  afterAll(async () => {
    const root = c?.root;
    await c?.stop();
    // Nothing of this cluster is left: no container, no mount.
    if (root) {
      expect(execFileSync('docker', ['ps', '-a', '--filter', `label=${simRootLabel}=${root}`, '--format', '{{.ID}}'], { encoding: 'utf8' }).trim()).toBe('');
      expect(await mountsUnder(root)).toEqual([]);
    }
  });

  it('runs the driver and the provider in containers, in their own mount namespaces', async () => {
    expect(c.runtime).toBe('docker');
    const pid = c.nodes[0]!.driver.pid();
    expect(pid).toBeGreaterThan(0);
    expect(await readlink(`/proc/${pid}/ns/mnt`)).not.toBe(await readlink('/proc/self/ns/mnt'));
    // Config.Image: what each container was created from (`docker ps` shows an image ID once
    // a parallel test file has re-tagged the image).
    const ids = execFileSync('docker', ['ps', '-q', '--filter', `label=${simRootLabel}=${c.root}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    const running = ids.length === 0 ? [] : execFileSync('docker', ['inspect', '--format', '{{.Config.Image}}', ...ids], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(running).toEqual([driverImage, fakeProviderImage]);
  });

  it('the tmpfs the driver mounts in its container appears on the host with the files, and pod deletion unmounts it there', async () => {
    await c.apply(pod('web-0'));
    await c.waitForPod({ namespace: ns, name: 'web-0' }, 'Running', 60_000);
    const target = await targetOf('web-0');
    expect((await mountsUnder(target)).map((m) => [m.mountPoint, m.fsType])).toEqual([[target, 'tmpfs']]);
    expect((await c.readFile({ namespace: ns, name: 'web-0' }, 'secrets', 'db-password')).toString()).toBe('correct-horse-battery-staple');
    await c.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'web-0' });
    const until = Date.now() + 30_000;
    while ((await mountsUnder(target)).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await mountsUnder(target)).toEqual([]);
  });

  it('mounts survive a killed driver container; the restarted driver unpublishes them', async () => {
    await c.apply(pod('web-1'));
    await c.waitForPod({ namespace: ns, name: 'web-1' }, 'Running', 60_000);
    const target = await targetOf('web-1');
    const driver = c.drivers()[0]!;
    await driver.kill();
    expect(driver.running()).toBe(false);
    expect((await mountsUnder(target)).map((m) => m.fsType)).toEqual(['tmpfs']);
    expect((await c.readFile({ namespace: ns, name: 'web-1' }, 'secrets', 'api-key')).toString()).toBe('ak_live_5f2b8c1e9d7a4b3c');
    await driver.start();
    await c.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'web-1' });
    const until = Date.now() + 30_000;
    while ((await mountsUnder(target)).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await mountsUnder(target)).toEqual([]);
  });
});
