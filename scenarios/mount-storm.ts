/**
 * mount-storm: N pods (default 200, `--pods`) created at once across several SPCs. Every
 * pod runs, and at the moment it turns Running its volume already holds every object
 * (upstream issue #1051 saw pods run with missing files under load). Reported: create-to-
 * Running and publish latency percentiles, the provider's most concurrent Mount calls, the
 * driver's peak RSS; then all are deleted and nothing may leak. Round 2 kills and restarts
 * the driver mid-storm; in round 3 the provider holds the calls until they pile up against
 * the driver's bound on in-flight Mount calls (--provider-max-inflight) and the driver
 * queues the rest, then answers slowly: the bound must hold while every pod mounts.
 * The round itself is storm-round.ts; here are the fake provider's SPCs and hooks.
 */
import { controlUrl } from '../cluster/cluster.js';
import { exampleObjects, providerState, setFault, spcManifest } from './fixtures.js';
import type { Scenario, Step, StepContext } from './scenario.js';
import { storm, type StormPlan } from './storm-round.js';

const objects = exampleObjects();
const maxInflight = 16;
const spcs: Array<{ name: string; objects: string[] }> = [
  { name: 'storm-a', objects: ['db-password', 'api-key'] },
  { name: 'storm-b', objects: ['db-username', 'config.json'] },
  { name: 'storm-c', objects: ['db-password', 'db-username', 'api-key'] },
  { name: 'storm-d', objects: ['config.json', 'api-key'] },
];
const expected = spcs.map((s) => new Map(s.objects.map((o) => [o, Buffer.from(objects.get(o)!)])));

function fakePlan(ctx: StepContext): StormPlan {
  return {
    provider: 'fake',
    spcOf: (i) => spcs[i % spcs.length]!.name,
    expected: (i) => expected[i % spcs.length]!,
    fake: {
      async resetMaxInflight() {
        await fetch(`${controlUrl(ctx.cluster.providers('fake')[0]!)}/state/max-inflight`, { method: 'DELETE' });
      },
      hold: () => setFault(ctx.cluster, { mode: 'hold' }),
      setLatency: (latencyMs) => setFault(ctx.cluster, latencyMs === null ? null : { mode: 'latency', latencyMs }),
      async inflight() {
        const state = await providerState(ctx.cluster);
        return { now: state.inflight, max: state.maxInflight };
      },
    },
  };
}

/** The rounds' step names, shared with the storm against an external provider (byo/). */
export const stormRoundNames = {
  storm: 'storm: all pods Running, complete at Running, nothing leaked',
  driverRestart: 'storm with the driver killed and restarted midway',
  slowProvider: `storm against a slow provider: in-flight bound ${maxInflight} holds`,
} as const;

const rounds: Step[] = [
  { name: stormRoundNames.storm, run: (ctx) => storm(ctx, { label: 'storm' }, fakePlan(ctx)) },
  // The provider is slowed down so that, when the driver dies, many volumes are mounted but
  // not yet written: the restarted driver must not report those as mounted.
  { name: stormRoundNames.driverRestart, run: (ctx) => storm(ctx, { label: 'driver restart', killDriverAt: 0.3, latencyMs: 100 }, fakePlan(ctx)) },
  {
    name: stormRoundNames.slowProvider,
    beyondUpstream: 'the bound on Mount calls in flight per provider (--provider-max-inflight; upstream has none)',
    run: (ctx) => storm(ctx, { label: 'slow provider', latencyMs: 100, maxInflight }, fakePlan(ctx)),
  },
];

export const mountStormScenario: Scenario = {
  name: 'mount-storm',
  title: 'N pods at once across several SPCs; driver restart and slow provider rounds',
  cluster: { driverArgs: [`--provider-max-inflight=${maxInflight}`], kubeletTimings: { backoffInitialMs: 200, backoffMaxMs: 2000 } },
  steps: [
    {
      name: 'SecretProviderClasses',
      async run(ctx) {
        for (const s of spcs) await ctx.cluster.apply(spcManifest(ctx.namespace, s.name, s.objects.map((objectName) => ({ objectName }))));
        ctx.figures.spcs = spcs.length;
      },
    },
    ...rounds,
  ],
};
