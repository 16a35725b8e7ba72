/**
 * rotation: with rotation on and a short interval, objects change in the fake provider and
 * the files, the pod status versions and the synced Secret follow; unchanged files are not
 * touched (ours); a rotation error keeps the old content, is counted (and, ours, an event),
 * and the volume recovers later.
 */
import { exampleObjects, metricSum, podManifest, putObject, ref, setFault, spcManifest } from './fixtures.js';
import type { Scenario, StepContext } from './scenario.js';

const intervalMs = 1000;
const objects = exampleObjects();
const pod = (ctx: StepContext) => ref(ctx.namespace, 'rotating');
const read = async (ctx: StepContext, path: string) => (await ctx.cluster.readFile(pod(ctx), 'secrets', path)).toString();
let apiKeyIno = 0;
let apiKeyMtime = 0;

export const rotationScenario: Scenario = {
  name: 'rotation',
  title: 'files, pod status versions and synced Secrets follow the provider; errors keep old content',
  cluster: { driverArgs: ['--enable-secret-rotation', `--rotation-poll-interval=${intervalMs}ms`], kubeletTimings: { republishPeriodMs: 1500 } },
  steps: [
    {
      name: 'a pod mounts two objects and syncs one',
      async run(ctx) {
        const ns = ctx.namespace;
        await ctx.cluster.apply([
          spcManifest(ns, 'rot', [{ objectName: 'db-password' }, { objectName: 'api-key' }], { secretObjects: [{ secretName: 'rot-secret', type: 'Opaque', data: [{ objectName: 'db-password', key: 'password' }] }] }),
          podManifest(ns, 'rotating', [{ name: 'secrets', spc: 'rot' }]),
        ]);
        await ctx.cluster.waitForPod(pod(ctx), 'Running', 30_000);
        await ctx.check((await read(ctx, 'db-password')) === objects.get('db-password'), 'db-password mounted', { pod: pod(ctx) });
        const st = await ctx.cluster.statFile(pod(ctx), 'secrets', 'api-key');
        apiKeyIno = st.ino;
        apiKeyMtime = st.mtimeMs;
      },
    },
    {
      name: 'a changed object reaches the file, the pod status and the Secret',
      async run(ctx) {
        const version = await putObject(ctx.cluster, 'db-password', 'rotated-password-1');
        const t = Date.now();
        await ctx.eventually(async () => (await read(ctx, 'db-password')) === 'rotated-password-1', 'the file has the new content', intervalMs * 10, { pod: pod(ctx) });
        ctx.figures.fileMs = Date.now() - t;
        const statusName = `rotating-${ctx.namespace}-rot`;
        await ctx.eventually(async () => {
          const s = await ctx.cluster.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: ctx.namespace, name: statusName });
          return ((s?.status as { objects?: Array<{ id: string; version: string }> })?.objects ?? []).find((o) => o.id === 'db-password')?.version === version;
        }, `the pod status records version ${version}`, intervalMs * 5);
        await ctx.eventually(async () => {
          const s = await ctx.cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.namespace, name: 'rot-secret' });
          return Buffer.from((s?.data as Record<string, string> | undefined)?.password ?? '', 'base64').toString() === 'rotated-password-1';
        }, 'the synced Secret has the new content', intervalMs * 5);
        ctx.figures.secretMs = Date.now() - t;
      },
    },
    {
      name: 'the unchanged object was not touched',
      beyondUpstream: "unchanged files keep their inode and mtime across a rotation (upstream's atomic writer writes every file into a new payload directory)",
      async run(ctx) {
        const st = await ctx.cluster.statFile(pod(ctx), 'secrets', 'api-key');
        await ctx.check(st.ino === apiKeyIno && st.mtimeMs === apiKeyMtime, 'api-key keeps its inode and mtime', { expected: { ino: apiKeyIno, mtimeMs: apiKeyMtime }, seen: { ino: st.ino, mtimeMs: st.mtimeMs } });
        await ctx.check((await read(ctx, 'api-key')) === objects.get('api-key'), 'api-key content unchanged');
      },
    },
    {
      name: 'a rotation error keeps the old content and is counted',
      async run(ctx) {
        const errors = async () => metricSum(await ctx.cluster.driverMetrics(), 'rotation_reconcile_error_total', { provider: 'fake', error_type: 'Throttled' }) ?? 0;
        const before = await errors();
        // Left on for the next step; the recovery step clears it (and the cluster goes with the scenario).
        await setFault(ctx.cluster, { mode: 'error', code: 'Throttled' });
        await putObject(ctx.cluster, 'db-password', 'rotated-password-2');
        // Counted with the provider's error code; `rotated` is "false" in ours, "true" in upstream's (a failed remount).
        await ctx.eventually(async () => (await errors()) > before, 'rotation_reconcile_error_total{provider="fake",error_type="Throttled"} grows', intervalMs * 10, { pod: pod(ctx), seen: errors });
        await ctx.check((await read(ctx, 'db-password')) === 'rotated-password-1', 'the old content stays during the failure');
        await ctx.check((await read(ctx, 'api-key')) === objects.get('api-key'), 'the other file is whole too');
      },
    },
    {
      name: 'the failure is a SecretRotationFailed event with the provider error code',
      beyondUpstream: 'a Warning event SecretRotationFailed on the pod (upstream v1.6 only logs a failed rotation)',
      async run(ctx) {
        const ev = await ctx.eventually(async () => (await ctx.cluster.events(ctx.namespace, 'rotating')).find((e) => e.reason === 'SecretRotationFailed'), 'a SecretRotationFailed event', intervalMs * 10, { pod: pod(ctx) });
        await ctx.check(/Throttled/.test(String(ev.message)), 'the event carries the provider error code', { seen: ev.message });
      },
    },
    {
      name: 'the volume recovers with the newest content',
      async run(ctx) {
        await setFault(ctx.cluster, null);
        const t = Date.now();
        await ctx.eventually(async () => (await read(ctx, 'db-password')) === 'rotated-password-2', 'the volume recovers with the newest content', 30_000, { pod: pod(ctx) });
        ctx.figures.recoveryMs = Date.now() - t;
      },
    },
  ],
};
