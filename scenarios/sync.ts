/**
 * sync: a Deployment's pods mount an SPC with secretObjects → the Secret has the right data,
 * type, labels and owner (the ReplicaSet); a second Deployment shares it; deleting one
 * shrinks the owner list; deleting both removes the Secret.
 */
import { deploymentManifest, exampleObjects, runningPods, spcManifest } from './fixtures.js';
import type { Scenario, StepContext } from './scenario.js';

const objects = exampleObjects();
const secretRef = (ctx: StepContext) => ({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.namespace, name: 'db-creds' });
const owners = async (ctx: StepContext) => (await ctx.cluster.get(secretRef(ctx)))?.metadata.ownerReferences ?? [];

export const syncScenario: Scenario = {
  name: 'sync',
  title: 'Secrets synced from mounts, owned by ReplicaSets, shared and garbage-collected',
  steps: [
    {
      name: 'a Deployment with 2 replicas creates the Secret',
      async run(ctx) {
        const ns = ctx.namespace;
        await ctx.cluster.apply([
          spcManifest(ns, 'db', [{ objectName: 'db-password' }, { objectName: 'db-username' }], {
            secretObjects: [{ secretName: 'db-creds', type: 'Opaque', labels: { app: 'db' }, data: [{ objectName: 'db-password', key: 'password' }, { objectName: 'db-username', key: 'username' }] }],
          }),
          deploymentManifest(ns, 'api', 'db', 2),
        ]);
        const pods = await runningPods(ctx, 'api', 2);
        const rs = pods[0]!.metadata.ownerReferences?.[0];
        const secret = await ctx.eventually(() => ctx.cluster.get(secretRef(ctx)), 'the Secret db-creds exists', 15_000, { pod: { namespace: ns, name: pods[0]!.metadata.name! } });
        const data = secret.data as Record<string, string>;
        const decoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
        await ctx.check(decoded.password === objects.get('db-password') && decoded.username === objects.get('db-username'), 'the data is the mounted objects', { expected: ['password', 'username'], seen: Object.keys(decoded) });
        await ctx.check(secret.type === 'Opaque', 'type Opaque', { expected: 'Opaque', seen: secret.type });
        await ctx.check(secret.metadata.labels?.['secrets-store.csi.k8s.io/managed'] === 'true' && secret.metadata.labels?.app === 'db', 'labels: managed=true plus the entry labels', { seen: secret.metadata.labels });
        // Ours writes the owner with the Secret; upstream adds owners in a loop every few seconds.
        await ctx.eventually(async () => {
          const o = await owners(ctx);
          return o.length === 1 && o[0]!.kind === 'ReplicaSet' && o[0]!.uid === rs?.uid;
        }, 'owned by the ReplicaSet', 15_000, { expected: rs, seen: () => owners(ctx) });
      },
    },
    {
      name: 'a second Deployment shares it: two owners',
      async run(ctx) {
        await ctx.cluster.apply(deploymentManifest(ctx.namespace, 'worker', 'db', 1));
        await runningPods(ctx, 'worker', 1);
        const o = await ctx.eventually(async () => {
          const list = await owners(ctx);
          return list.length === 2 && list;
        }, 'the Secret has two owners', 15_000, { seen: () => owners(ctx) });
        ctx.figures.owners = o.length;
      },
    },
    {
      name: 'deleting one Deployment shrinks the owner list',
      async run(ctx) {
        await ctx.cluster.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.namespace, name: 'worker' });
        const o = await ctx.eventually(async () => {
          const list = await owners(ctx);
          return list.length === 1 && list;
        }, 'one owner left', 20_000, { seen: () => owners(ctx) });
        await ctx.check(o[0]!.name.startsWith('api-'), "the remaining owner is api's ReplicaSet", { seen: o });
        await ctx.check((await ctx.cluster.get(secretRef(ctx))) !== undefined, 'the Secret is still there');
      },
    },
    {
      name: 'deleting both removes the Secret',
      async run(ctx) {
        await ctx.cluster.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.namespace, name: 'api' });
        await ctx.eventually(async () => (await ctx.cluster.get(secretRef(ctx))) === undefined, 'the Secret is garbage-collected', 30_000, { seen: () => owners(ctx) });
      },
    },
  ],
};
