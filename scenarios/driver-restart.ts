/**
 * driver-restart: restart the driver with volumes mounted — the mounts keep working,
 * unpublish after the restart works, rotation resumes.
 */
import type { PodRef } from '../cluster/cluster.js';
import { exampleObjects, podManifest, putObject, ref, spcManifest } from './fixtures.js';
import type { ClusterNeeds, Scenario, Step, StepContext } from './scenario.js';

const objects = exampleObjects();

export interface DriverRestartWorkload {
  title: string;
  cluster?: ClusterNeeds;
  /** Applies the SecretProviderClass the pods mount as `secrets`; returns its name. */
  spc(ctx: StepContext): Promise<string>;
  /** Checks the pod still reads its files. */
  readable(ctx: StepContext, pod: PodRef): Promise<void>;
  /** The last step: rotation resumes (or why it cannot run). */
  rotation: Step;
}

export const rotationResumesStep = 'rotation resumes after the restart';

/** The scenario for any provider. */
export function driverRestart(w: DriverRestartWorkload): Scenario {
  return {
    name: 'driver-restart',
    title: w.title,
    ...(w.cluster ? { cluster: w.cluster } : {}),
    steps: [
      {
        name: 'two pods run',
        async run(ctx) {
          const ns = ctx.namespace;
          const spc = await w.spc(ctx);
          for (const name of ['keep', 'gone']) await ctx.cluster.apply(podManifest(ns, name, [{ name: 'secrets', spc }]));
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
          for (const name of ['keep', 'gone']) await w.readable(ctx, ref(ctx.namespace, name));
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
      w.rotation,
    ],
  };
}

export const driverRestartScenario: Scenario = driverRestart({
  title: 'mounts survive a driver restart; unpublish and rotation work afterwards',
  cluster: { driverArgs: ['--enable-secret-rotation', '--rotation-poll-interval=1s'], kubeletTimings: { republishPeriodMs: 1500 } },
  async spc(ctx) {
    await ctx.cluster.apply(spcManifest(ctx.namespace, 'app', [{ objectName: 'db-password' }, { objectName: 'db-username' }]));
    return 'app';
  },
  async readable(ctx, pod) {
    const seen = (await ctx.cluster.readFile(pod, 'secrets', 'db-username')).toString();
    await ctx.check(seen === objects.get('db-username'), `${pod.name} still reads its files`, { pod });
  },
  rotation: {
    name: rotationResumesStep,
    async run(ctx) {
      await putObject(ctx.cluster, 'db-password', 'after-restart-password');
      const t = Date.now();
      await ctx.eventually(async () => (await ctx.cluster.readFile(ref(ctx.namespace, 'keep'), 'secrets', 'db-password')).toString() === 'after-restart-password', 'the remaining pod gets the new content', 20_000, { pod: ref(ctx.namespace, 'keep') });
      ctx.figures.rotationMs = Date.now() - t;
    },
  },
});
