/**
 * mount-storm, for the user's provider: N pods (`--pods`, default 200) with the user's
 * SecretProviderClass created at once; every pod runs with every file present at the moment
 * it turns Running, create-to-Running p50/p99 reported, nothing leaked after deleting them.
 * Round 2 kills and restarts the driver midway. Round 3 makes the fault proxy in front of
 * the provider hold the Mount calls until they pile up against the driver's bound, then
 * answer them late, as the fake provider's round does.
 */
import { mountStormScenario, slowProviderBound, stormRoundNames } from '../mount-storm.js';
import type { Scenario } from '../scenario.js';
import { storm, type FakeProviderHooks, type StormPlan } from '../storm-round.js';
import { applySpc, type ByoTarget } from './byo-target.js';

/** The storm's provider hooks, served by the fault proxy: the same faults and counts the fake provider has. */
function proxyHooks(t: ByoTarget): FakeProviderHooks {
  const { faults, counts } = t.session.proxy;
  return {
    async resetMaxInflight() {
      counts.maxInflight = counts.inflight;
    },
    async hold() {
      faults.set({ mode: 'hold' });
    },
    async setLatency(latencyMs) {
      if (latencyMs === null) faults.clear();
      else faults.set({ mode: 'latency', latencyMs });
    },
    async inflight() {
      return { now: counts.inflight, max: counts.maxInflight };
    },
  };
}

export function byoMountStormScenario(t: ByoTarget): Scenario {
  // The same step names as the fake provider's storm, so results compare side by side.
  const plan: StormPlan = {
    provider: t.provider.name,
    spcOf: () => t.spc.name,
    expected: () => new Map(t.expectation.files.map((f) => [f.path, f.contents])),
    fake: proxyHooks(t),
  };
  const slow = mountStormScenario.steps.find((s) => s.name === stormRoundNames.slowProvider)!;
  return {
    name: 'mount-storm',
    title: `N pods at once with ${t.spc.name} from ${t.provider.name}; a driver restart round; a slow provider round (through the fault proxy)`,
    ...(mountStormScenario.cluster ? { cluster: mountStormScenario.cluster } : {}),
    steps: [
      {
        name: 'SecretProviderClass',
        async run(ctx) {
          await applySpc(ctx, t);
          ctx.figures.spcs = 1;
        },
      },
      { name: stormRoundNames.storm, run: (ctx) => storm(ctx, { label: 'storm' }, plan) },
      { name: stormRoundNames.driverRestart, run: (ctx) => storm(ctx, { label: 'driver restart', killDriverAt: 0.3, latencyMs: 100 }, plan) },
      { ...slow, run: (ctx) => storm(ctx, { label: 'slow provider', latencyMs: 100, maxInflight: slowProviderBound }, plan) },
    ],
  };
}
