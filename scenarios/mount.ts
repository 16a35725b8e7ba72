/**
 * mount: what a pod sees in its secrets-store volumes — v1 and v1alpha1 SecretProviderClasses,
 * the right contents and modes, several volumes in one pod; an SPC that only exists in
 * another namespace fails with a FailedMount event; unpublish leaves nothing behind.
 */
import { exampleObjects, podDirsCleared, podManifest, ref, spcManifest } from './fixtures.js';
import type { Scenario } from './scenario.js';

const objects = exampleObjects();

export const mountScenario: Scenario = {
  name: 'mount',
  title: 'v1 and v1alpha1 SPCs, contents and modes, several SPCs in one pod, wrong namespace, unpublish',
  steps: [
    {
      name: 'a pod with a v1 and a v1alpha1 SecretProviderClass runs',
      async run(ctx) {
        const ns = ctx.namespace;
        await ctx.cluster.apply([
          spcManifest(ns, 'creds-v1', [{ objectName: 'db-password', mode: '0600' }, { objectName: 'api-key', fileName: 'keys/api-key' }]),
          spcManifest(ns, 'config-v1alpha1', [{ objectName: 'db-username' }, { objectName: 'config.json' }], {}, 'secrets-store.csi.x-k8s.io/v1alpha1'),
          podManifest(ns, 'web', [{ name: 'creds', spc: 'creds-v1' }, { name: 'config', spc: 'config-v1alpha1' }]),
        ]);
        const t = Date.now();
        await ctx.cluster.waitForPod(ref(ns, 'web'), 'Running', 30_000);
        ctx.figures.createToRunningMs = Date.now() - t;
      },
    },
    {
      name: 'files hold the provider objects with the right modes',
      async run(ctx) {
        const pod = ref(ctx.namespace, 'web');
        const expectations: Array<[string, string, string, number]> = [
          ['creds', 'db-password', 'db-password', 0o600],
          ['creds', 'keys/api-key', 'api-key', 0o644],
          ['config', 'db-username', 'db-username', 0o644],
          ['config', 'config.json', 'config.json', 0o644],
        ];
        for (const [volume, path, object, mode] of expectations) {
          const seen = (await ctx.cluster.readFile(pod, volume, path)).toString();
          await ctx.check(seen === objects.get(object), `${volume}/${path} holds object ${object}`, { expected: `${objects.get(object)!.length} bytes of ${object}`, seen: `${seen.length} bytes`, pod });
          const st = await ctx.cluster.statFile(pod, volume, path);
          await ctx.check((st.mode & 0o777) === mode, `${volume}/${path} has mode ${mode.toString(8)}`, { expected: mode.toString(8), seen: (st.mode & 0o777).toString(8) });
        }
        const statuses = await ctx.cluster.list('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', ctx.namespace);
        const names = statuses.map((s) => s.metadata.name).sort();
        await ctx.check(names.join() === [`web-${ctx.namespace}-config-v1alpha1`, `web-${ctx.namespace}-creds-v1`].join(), 'one SecretProviderClassPodStatus per volume', { expected: 2, seen: names });
        ctx.figures.files = expectations.length;
      },
    },
    {
      name: 'an SPC only in another namespace fails with FailedMount',
      async run(ctx) {
        const ns = ctx.namespace;
        await ctx.cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${ns}-other` } }, spcManifest(`${ns}-other`, 'elsewhere', [{ objectName: 'db-password' }])]);
        await ctx.cluster.apply(podManifest(ns, 'lost', [{ name: 'creds', spc: 'elsewhere' }]));
        const pod = ref(ns, 'lost');
        const event = await ctx.eventually(async () => (await ctx.cluster.events(ns, 'lost')).find((e) => e.reason === 'FailedMount'), 'a FailedMount event on the pod', 20_000, { pod });
        // The contract is what the user reads: the SPC, its namespace, "not found" (ours says
        // `SecretProviderClass "elsewhere" not found in namespace "…"`, upstream `… secretproviderclass <ns>/elsewhere … not found`).
        const message = String(event.message);
        await ctx.check(message.includes('elsewhere') && message.includes(ns) && /not found/i.test(message), 'the event names the missing SecretProviderClass and namespace', { expected: `"not found" naming elsewhere and ${ns}`, seen: event.message });
        const p = await ctx.cluster.get({ apiVersion: 'v1', kind: 'Pod', ...pod });
        await ctx.check((p?.status as { phase?: string })?.phase === 'Pending', 'the pod stays Pending', { expected: 'Pending', seen: (p?.status as { phase?: string })?.phase, pod });
      },
    },
    {
      name: 'deleting the pods unpublishes every volume',
      async run(ctx) {
        for (const name of ['web', 'lost']) await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, name });
        for (const name of ['web', 'lost']) await ctx.cluster.waitForPod(ref(ctx.namespace, name), 'Deleted', 30_000);
        const left = await ctx.cluster.leftovers();
        await ctx.check(left.mounts.length === 0, 'no mount left', { expected: [], seen: left.mounts });
        await podDirsCleared(ctx);
      },
    },
  ],
};
