/**
 * rotation, for the user's provider: `--rotate-cmd` changes an object in the author's
 * backend, and what the provider's Mount then answers (probed again: new versions, new
 * bytes) is what the pod's files, its SecretProviderClassPodStatus and the synced Secret
 * must follow; unchanged files are not touched (ours). A rotation error — the fault proxy
 * answering with an error code — keeps the old content and is counted (and, ours, an
 * event); once it is cleared the volume takes the newest content (a second --rotate-cmd run
 * during the error, SSCSI_ROTATION=2). Skipped without --rotate-cmd: the harness cannot
 * know how to change an object in someone else's backend.
 */
import { metricSum, ref } from '../fixtures.js';
import { rotationScenario } from '../rotation.js';
import type { Scenario, StepContext } from '../scenario.js';
import { applySpc, byoPod, checkFiles, needsRotateCmd, syncEntries, type ByoTarget } from './byo-target.js';
import { digest, type Expectation } from './provider-probe.js';

const podName = 'rotating';
const pod = (ctx: StepContext) => ref(ctx.namespace, podName);
/** Files and versions that differ between two answers of the provider. */
function changes(before: Expectation, after: Expectation): { files: string[]; versions: string[] } {
  const files = after.files.filter((f) => !before.files.find((b) => b.path === f.path)?.contents.equals(f.contents)).map((f) => f.path);
  const versions = after.objectVersions.filter((o) => before.objectVersions.find((b) => b.id === o.id)?.version !== o.version).map((o) => `${o.id}@${o.version}`);
  return { files, versions };
}

/** Runs --rotate-cmd and probes again; fails the check when the provider's answer did not change. */
export async function rotateAndProbe(ctx: StepContext, t: ByoTarget): Promise<{ before: Expectation; after: Expectation; changed: { files: string[]; versions: string[] } }> {
  const before = t.expectation;
  const n = await t.session.rotate();
  const after = await t.reprobe();
  const changed = changes(before, after);
  ctx.log(`--rotate-cmd (SSCSI_ROTATION=${n}): files changed ${changed.files.join(', ') || 'none'}; versions ${changed.versions.join(', ') || 'unchanged'}`);
  await ctx.check(changed.files.length > 0, `--rotate-cmd changed what ${t.provider.name}'s Mount answers`, {
    expected: 'at least one file with other bytes',
    seen: { files: after.files.map((f) => `${f.path}: ${digest(f.contents)}`), versions: after.objectVersions },
  });
  return { before, after, changed };
}

/** Waits until the pod's volume holds what the provider now answers. */
async function volumeFollows(ctx: StepContext, t: ByoTarget, timeoutMs: number): Promise<void> {
  await ctx.eventually(
    async () => {
      for (const f of t.expectation.files) if (!(await ctx.cluster.readFile(pod(ctx), 'secrets', f.path)).equals(f.contents)) return false;
      return true;
    },
    'every file has what the provider now answers',
    timeoutMs,
    { pod: pod(ctx), expected: t.expectation.files.map((f) => `${f.path}: ${digest(f.contents)}`) },
  );
}

export function byoRotationScenario(t: ByoTarget): Scenario {
  const step = (name: string) => rotationScenario.steps.find((s) => s.name === name)!;
  const inodes = new Map<string, { ino: number; mtimeMs: number }>();
  let unchanged: string[] = [];
  const secretOf = () => syncEntries(t).entries[0]!;
  const errors = async (ctx: StepContext) => metricSum(await ctx.cluster.driverMetrics(), 'rotation_reconcile_error_total', { provider: t.provider.name, error_type: 'Throttled' }) ?? 0;
  let errorsBefore = 0;
  let heldContent: Expectation | undefined;
  return {
    ...rotationScenario,
    title: `files, pod status versions and synced Secrets follow what ${t.provider.name} answers after --rotate-cmd; errors keep old content`,
    ...(t.session.canRotate ? {} : { skip: needsRotateCmd }),
    steps: [
      {
        name: 'a pod mounts the SecretProviderClass and syncs it',
        async run(ctx) {
          const sync = syncEntries(t);
          if (sync.derived) ctx.log(`the SPC has no spec.secretObjects: a copy syncs ${sync.entries[0]!.secretName} with a key per file`);
          await applySpc(ctx, t, { sync: true });
          await ctx.cluster.apply(byoPod(ctx, t, podName));
          await ctx.cluster.waitForPod(pod(ctx), 'Running', 30_000);
          await checkFiles(ctx, t, pod(ctx));
          for (const f of t.expectation.files) {
            const st = await ctx.cluster.statFile(pod(ctx), 'secrets', f.path);
            inodes.set(f.path, { ino: st.ino, mtimeMs: st.mtimeMs });
          }
        },
      },
      {
        name: 'a changed object reaches the file, the pod status and the Secret',
        async run(ctx) {
          const { after, changed } = await rotateAndProbe(ctx, t);
          unchanged = after.files.filter((f) => !changed.files.includes(f.path)).map((f) => f.path);
          const started = Date.now();
          await volumeFollows(ctx, t, 10_000);
          ctx.figures.fileMs = Date.now() - started;
          const statusName = `${podName}-${ctx.namespace}-${t.spc.name}`;
          await ctx.eventually(async () => {
            const s = await ctx.cluster.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: ctx.namespace, name: statusName });
            const seen = ((s?.status as { objects?: Array<{ id: string; version: string }> })?.objects ?? []).map((o) => ({ id: o.id, version: o.version }));
            return JSON.stringify(seen) === JSON.stringify(after.objectVersions);
          }, `the pod status records the new versions ${changed.versions.join(', ') || '(the provider kept its version ids)'}`, 5000);
          const entry = secretOf();
          await ctx.eventually(async () => {
            const s = await ctx.cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.namespace, name: entry.secretName });
            const data = (s?.data as Record<string, string> | undefined) ?? {};
            return (entry.data ?? []).every((d) => {
              const file = after.files.find((f) => f.path === d.objectName);
              return !file || Buffer.from(data[d.key] ?? '', 'base64').equals(file.contents);
            });
          }, `the synced Secret ${entry.secretName} has the new content`, 5000);
          ctx.figures.secretMs = Date.now() - started;
          ctx.figures.changedFiles = changed.files.length;
        },
      },
      {
        name: step('the unchanged object was not touched').name,
        beyondUpstream: step('the unchanged object was not touched').beyondUpstream!,
        async run(ctx) {
          ctx.figures.unchangedFiles = unchanged.length;
          if (unchanged.length === 0) ctx.log('--rotate-cmd changed every file: no unchanged file to look at');
          for (const path of unchanged) {
            const st = await ctx.cluster.statFile(pod(ctx), 'secrets', path);
            const was = inodes.get(path)!;
            await ctx.check(st.ino === was.ino && st.mtimeMs === was.mtimeMs, `${path} keeps its inode and mtime`, { expected: was, seen: { ino: st.ino, mtimeMs: st.mtimeMs } });
          }
        },
      },
      {
        name: 'a rotation error keeps the old content and is counted',
        async run(ctx) {
          errorsBefore = await errors(ctx);
          heldContent = t.expectation;
          // The fault proxy answers every Mount with the error code; the recovery step clears it.
          t.session.proxy.faults.set({ mode: 'error', code: 'Throttled' });
          await ctx.eventually(async () => (await errors(ctx)) > errorsBefore, `rotation_reconcile_error_total{provider="${t.provider.name}",error_type="Throttled"} grows`, 10_000, { pod: pod(ctx), seen: () => errors(ctx) });
          // The backend changes during the failure: the volume must keep what it had.
          await rotateAndProbe(ctx, t);
          await ctx.eventually(async () => (await errors(ctx)) > errorsBefore + 1, 'a rotation after the change fails too', 10_000, { pod: pod(ctx) });
          for (const f of heldContent.files) {
            const seen = await ctx.cluster.readFile(pod(ctx), 'secrets', f.path);
            await ctx.check(seen.equals(f.contents), `${f.path} keeps its content during the failure`, { expected: digest(f.contents), seen: digest(seen) });
          }
        },
      },
      {
        name: step('the failure is a SecretRotationFailed event with the provider error code').name,
        beyondUpstream: step('the failure is a SecretRotationFailed event with the provider error code').beyondUpstream!,
        async run(ctx) {
          const ev = await ctx.eventually(async () => (await ctx.cluster.events(ctx.namespace, podName)).find((e) => e.reason === 'SecretRotationFailed'), 'a SecretRotationFailed event', 10_000, { pod: pod(ctx) });
          await ctx.check(/Throttled/.test(String(ev.message)), 'the event carries the provider error code', { seen: ev.message });
        },
      },
      {
        name: 'the volume recovers with the newest content',
        async run(ctx) {
          t.session.proxy.faults.clear();
          const started = Date.now();
          await volumeFollows(ctx, t, 30_000);
          ctx.figures.recoveryMs = Date.now() - started;
        },
      },
    ],
    async cleanup() {
      t.session.proxy.faults.clear();
    },
  };
}
