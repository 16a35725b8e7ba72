/**
 * pod-deletion: deleting pods unpublishes their volumes — tmpfs unmounted, target and pod
 * directories gone, pod statuses garbage-collected, nothing left in /proc/self/mountinfo —
 * and the driver's metrics count every unpublish.
 */
import { metricSum, podDirsCleared, podManifest, ref, spcManifest } from './fixtures.js';
import type { Scenario, StepContext } from './scenario.js';

const count = 5;

/**
 * The scenario for any provider: `spcs` applies the SecretProviderClasses of the two
 * volumes every pod mounts and names them.
 */
export function podDeletion(title: string, spcs: (ctx: StepContext) => Promise<[string, string]>): Scenario {
  let unpublishedBefore = 0;
  return {
    name: 'pod-deletion',
    title,
    steps: [
      {
        name: `${count} pods with two volumes each run`,
        async run(ctx) {
          const ns = ctx.namespace;
          const [a, b] = await spcs(ctx);
          for (let i = 0; i < count; i++) await ctx.cluster.apply(podManifest(ns, `del-${i}`, [{ name: 'one', spc: a }, { name: 'two', spc: b }], { app: 'del' }));
          for (let i = 0; i < count; i++) await ctx.cluster.waitForPod(ref(ns, `del-${i}`), 'Running', 30_000);
          const left = await ctx.cluster.leftovers();
          await ctx.check(left.mounts.length === count * 2, `${count * 2} volumes mounted`, { expected: count * 2, seen: left.mounts.length });
          unpublishedBefore = metricSum(await ctx.cluster.driverMetrics(), 'node_unpublish_total', { os_type: 'linux' }) ?? 0;
          ctx.figures.mounts = left.mounts.length;
        },
      },
      {
        name: 'deleting them unpublishes and cleans up everything',
        async run(ctx) {
          const ns = ctx.namespace;
          for (let i = 0; i < count; i++) await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `del-${i}` });
          for (let i = 0; i < count; i++) await ctx.cluster.waitForPod(ref(ns, `del-${i}`), 'Deleted', 30_000);
          const left = await ctx.cluster.leftovers();
          await ctx.check(left.mounts.length === 0, 'no mount left (mountinfo)', { expected: [], seen: left.mounts });
          await podDirsCleared(ctx);
          const statuses = await ctx.eventually(async () => {
            const l = await ctx.cluster.list('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', ns);
            return l.length === 0 && [];
          }, 'every SecretProviderClassPodStatus garbage-collected', 15_000, { seen: async () => (await ctx.cluster.list('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', ns)).map((s) => s.metadata.name) });
          ctx.figures.podStatusesLeft = statuses.length;
          const after = metricSum(await ctx.cluster.driverMetrics(), 'node_unpublish_total', { os_type: 'linux' }) ?? 0;
          await ctx.check(after - unpublishedBefore === count * 2, `node_unpublish_total grew by ${count * 2}`, { expected: count * 2, seen: after - unpublishedBefore });
          ctx.figures.unpublished = after - unpublishedBefore;
        },
      },
    ],
  };
}

export const podDeletionScenario = podDeletion('volumes unpublished, mounts and directories gone, pod statuses collected, metrics counted', async (ctx) => {
  await ctx.cluster.apply(spcManifest(ctx.namespace, 'a', [{ objectName: 'db-password' }]));
  await ctx.cluster.apply(spcManifest(ctx.namespace, 'b', [{ objectName: 'api-key' }]));
  return ['a', 'b'];
});
