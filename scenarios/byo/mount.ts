/**
 * mount, for the user's provider: a pod with the user's SecretProviderClass runs; every file
 * the provider's probe Mount answered is in the volume with its contents and mode; the
 * SecretProviderClassPodStatus records the provider's object versions; deleting the pod
 * unpublishes the volume and leaves nothing behind.
 */
import { ref } from '../fixtures.js';
import type { Scenario } from '../scenario.js';
import { applySpc, byoPod, checkFiles, type ByoTarget } from './byo-target.js';

export function byoMountScenario(t: ByoTarget): Scenario {
  const pod = 'web';
  return {
    name: 'mount',
    title: `a pod mounts ${t.spc.name} (${t.spc.apiVersion.split('/')[1]}) from ${t.provider.name}: contents, modes, object versions, unpublish`,
    steps: [
      {
        name: `a pod with the SecretProviderClass ${t.spc.name} runs`,
        async run(ctx) {
          await applySpc(ctx, t);
          await ctx.cluster.apply(byoPod(ctx, t, pod));
          const started = Date.now();
          await ctx.cluster.waitForPod(ref(ctx.namespace, pod), 'Running', 30_000);
          ctx.figures.createToRunningMs = Date.now() - started;
        },
      },
      {
        name: 'every file the provider answered is in the volume, with its mode',
        async run(ctx) {
          await checkFiles(ctx, t, ref(ctx.namespace, pod));
          ctx.figures.files = t.expectation.files.length;
        },
      },
      {
        name: "the pod status records the provider's object versions",
        async run(ctx) {
          const name = `${pod}-${ctx.namespace}-${t.spc.name}`;
          const status = await ctx.cluster.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: ctx.namespace, name });
          await ctx.check(status !== undefined, `the SecretProviderClassPodStatus ${name} exists`, { pod: ref(ctx.namespace, pod) });
          const objects = ((status!.status as { objects?: Array<{ id: string; version: string }> } | undefined)?.objects ?? []).map((o) => ({ id: o.id, version: o.version }));
          await ctx.check(JSON.stringify(objects) === JSON.stringify(t.expectation.objectVersions), 'its objects are the object versions the provider answered', { expected: t.expectation.objectVersions, seen: objects });
          ctx.figures.objects = objects.length;
        },
      },
      {
        name: 'deleting the pod unpublishes the volume and leaves nothing behind',
        async run(ctx) {
          await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, name: pod });
          await ctx.cluster.waitForPod(ref(ctx.namespace, pod), 'Deleted', 30_000);
          const left = await ctx.cluster.leftovers();
          await ctx.check(left.mounts.length === 0 && left.podDirs.length === 0, 'no mount and no pod directory left', { expected: { mounts: [], podDirs: [] }, seen: left });
        },
      },
    ],
  };
}
