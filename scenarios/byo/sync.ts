/**
 * sync, for the user's provider: a Deployment mounts the user's SecretProviderClass and every
 * `spec.secretObjects` entry becomes a Secret whose data is the mounted file each
 * `objectName` names (for kubernetes.io/tls, the key and certificates out of the PEM), with
 * the managed label and the ReplicaSet as owner; deleting the Deployment garbage-collects
 * them. When the SecretProviderClass has no secretObjects, a copy of it gets one derived
 * from the files the provider answered (a Secret `<spc>-synced`, one key per file), and
 * the step says so.
 */
import { managedLabel, secretType, secretValueProblem, syncedLabels } from '../../conformance/contract/secret-sync.js';
import { deploymentManifest, runningPods } from '../fixtures.js';
import type { Scenario, StepContext } from '../scenario.js';
import { applySpc, syncEntries, type ByoTarget } from './byo-target.js';
import { digest } from './provider-probe.js';

const app = 'consumer';
const secretRef = (ctx: StepContext, name: string) => ({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.namespace, name });

type SecretObject = ByoTarget['spc']['secretObjects'][number];


/** For each key of the Secret of `entry`, the mounted file it comes from; or why it cannot. */
function sourceFiles(t: ByoTarget, entry: SecretObject): Record<string, Buffer> | string {
  const files: Record<string, Buffer> = {};
  for (const d of entry.data ?? []) {
    const file = t.expectation.files.find((f) => f.path === d.objectName);
    if (!file) return `objectName ${JSON.stringify(d.objectName)} of Secret ${entry.secretName} is not a file the provider mounts (${t.expectation.files.map((f) => f.path).join(', ')})`;
    files[d.key] = file.contents;
  }
  return files;
}

export function byoSyncScenario(t: ByoTarget): Scenario {
  let entries: SecretObject[] = [];
  return {
    name: 'sync',
    title: `Secrets synced from ${t.provider.name}'s files by spec.secretObjects (${t.spc.secretObjects.length > 0 ? "the SPC's own" : 'derived from the files the provider answers: the SPC has none'}), owned by the ReplicaSet, garbage-collected`,
    steps: [
      {
        name: 'a Deployment creates every Secret of the secretObjects',
        async run(ctx) {
          const sync = syncEntries(t);
          entries = sync.entries;
          if (sync.derived) ctx.log(`${t.spc.file} has no spec.secretObjects: syncing a copy of the SPC with one derived from the provider's files, Secret ${entries[0]!.secretName} with keys ${entries[0]!.data!.map((d) => d.key).join(', ')}`);
          ctx.figures.secretObjects = sync.derived ? 'derived' : 'spc';
          await applySpc(ctx, t, { sync: true });
          await ctx.cluster.apply(deploymentManifest(ctx.namespace, app, t.spc.name, 1));
          const pods = await runningPods(ctx, app, 1);
          const pod = { namespace: ctx.namespace, name: pods[0]!.metadata.name! };
          const rs = pods[0]!.metadata.ownerReferences?.[0];
          for (const entry of entries) {
            const sources = sourceFiles(t, entry);
            await ctx.check(typeof sources !== 'string', `the data of Secret ${entry.secretName} comes from mounted files`, { expected: 'every objectName a mounted file', seen: sources });
            const want = sources as Record<string, Buffer>;
            const type = secretType(entry.type);
            const secret = await ctx.eventually(() => ctx.cluster.get(secretRef(ctx, entry.secretName)), `the Secret ${entry.secretName} exists`, 15_000, { pod });
            const data = Object.fromEntries(Object.entries((secret.data as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
            const shown = (d: Record<string, Buffer>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, digest(v)]));
            const problems = Object.entries(want).flatMap(([k, file]) => secretValueProblem(type, k, file, data[k]) ?? []);
            if (Object.keys(data).length !== Object.keys(want).length) problems.push(`keys ${Object.keys(data).join(', ')}, expected ${Object.keys(want).join(', ')}`);
            await ctx.check(problems.length === 0, `the data of ${entry.secretName} is the mounted files its secretObjects entry names`, { expected: shown(want), seen: { data: shown(data), problems } });
            await ctx.check(secret.type === type, `${entry.secretName} has type ${type}`, { expected: type, seen: secret.type });
            const labels = secret.metadata.labels ?? {};
            const wantLabels = syncedLabels(entry.labels);
            await ctx.check(Object.entries(wantLabels).every(([k, v]) => labels[k] === v), `${entry.secretName} has the ${managedLabel} label and the entry's labels`, { expected: wantLabels, seen: labels });
            const owners = await ctx.eventually(async () => {
              const o = (await ctx.cluster.get(secretRef(ctx, entry.secretName)))?.metadata.ownerReferences ?? [];
              return o.length > 0 && o;
            }, `${entry.secretName} gets an owner`, 15_000);
            await ctx.check(owners.length === 1 && owners[0]!.kind === 'ReplicaSet' && owners[0]!.uid === rs?.uid, `${entry.secretName} is owned by the ReplicaSet`, { expected: rs, seen: owners });
          }
          ctx.figures.secrets = entries.length;
        },
      },
      {
        name: 'deleting the Deployment garbage-collects the Secrets',
        async run(ctx) {
          await ctx.cluster.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.namespace, name: app });
          for (const entry of entries) {
            await ctx.eventually(async () => (await ctx.cluster.get(secretRef(ctx, entry.secretName))) === undefined, `the Secret ${entry.secretName} is garbage-collected`, 30_000);
          }
        },
      },
    ],
  };
}
