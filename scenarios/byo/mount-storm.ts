/**
 * mount-storm, for the user's provider: N pods (`--pods`, default 200) with the user's
 * SecretProviderClass created at once; every pod runs with every file present at the moment
 * it turns Running, create-to-Running p50/p99 reported, nothing leaked after deleting them.
 * Round 2 kills and restarts the driver midway. Round 3 needs the fake provider's latency
 * fault and is skipped.
 */
import { mountStormScenario, stormRoundNames } from '../mount-storm.js';
import type { Scenario } from '../scenario.js';
import { storm, type StormPlan } from '../storm-round.js';
import { applySpc, needsFake, type ByoTarget } from './byo-target.js';

export function byoMountStormScenario(t: ByoTarget): Scenario {
  const expected = new Map(t.expectation.files.map((f) => [f.path, f.contents]));
  // The same step names as the fake provider's storm, so results compare side by side.
  const plan: StormPlan = { provider: t.provider.name, spcOf: () => t.spc.name, expected: () => expected };
  return {
    name: 'mount-storm',
    title: `N pods at once with ${t.spc.name} from ${t.provider.name}; a driver restart round`,
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
      { name: stormRoundNames.driverRestart, run: (ctx) => storm(ctx, { label: 'driver restart', killDriverAt: 0.3 }, plan) },
      { name: stormRoundNames.slowProvider, skip: needsFake('(a latency fault slows the provider down)', t.provider.name), run: async () => undefined },
    ],
  };
}
