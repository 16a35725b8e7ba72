/**
 * driver-restart: restart the driver with volumes mounted — the mounts keep working,
 * unpublish after the restart works, rotation resumes.
 */
import { exampleObjects, podManifest, putObject, ref, spcManifest } from './fixtures.js';
import type { Scenario } from './scenario.js';

const objects = exampleObjects();

export const driverRestartScenario: Scenario = {
  name: 'driver-restart',
  title: 'mounts survive a driver restart; unpublish and rotation work afterwards',
  cluster: { driverArgs: ['--enable-secret-rotation', '--rotation-poll-interval=1s'], kubeletTimings: { republishPeriodMs: 1500 } },
  steps: [
    {
      name: 'two pods run',
      async run(ctx) {
        const ns = ctx.namespace;
        await ctx.cluster.apply(spcManifest(ns, 'app', [{ objectName: 'db-password' }, { objectName: 'db-username' }]));
        for (const name of ['keep', 'gone']) await ctx.cluster.apply(podManifest(ns, name, [{ name: 'secrets', spc: 'app' }]));
        for (const name of ['keep', 'gone']) await ctx.cluster.waitForPod(ref(ns, name), 'Running', 30_000);
      },
    },
    {
      name: 'the driver restarts; the mounted files stay readable throughout',
      async run(ctx) {
        const driver = ctx.cluster.drivers()[0]!;
        const t = Date.now();
        await driver.restart();
        ctx.figures.restartMs = Date.now() - t;
        for (const name of ['keep', 'gone']) {
          const seen = (await ctx.cluster.readFile(ref(ctx.namespace, name), 'secrets', 'db-username')).toString();
          await ctx.check(seen === objects.get('db-username'), `${name} still reads its files`, { pod: ref(ctx.namespace, name) });
        }
      },
    },
    {
      name: 'unpublish after the restart works',
      async run(ctx) {
        await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, name: 'gone' });
        await ctx.cluster.waitForPod(ref(ctx.namespace, 'gone'), 'Deleted', 30_000);
        const left = await ctx.cluster.leftovers();
        await ctx.check(left.mounts.length === 1, 'only the remaining pod is mounted', { expected: 1, seen: left.mounts });
      },
    },
    {
      name: 'rotation resumes after the restart',
      async run(ctx) {
        await putObject(ctx.cluster, 'db-password', 'after-restart-password');
        const t = Date.now();
        await ctx.eventually(async () => (await ctx.cluster.readFile(ref(ctx.namespace, 'keep'), 'secrets', 'db-password')).toString() === 'after-restart-password', 'the remaining pod gets the new content', 20_000, { pod: ref(ctx.namespace, 'keep') });
        ctx.figures.rotationMs = Date.now() - t;
      },
    },
  ],
};
