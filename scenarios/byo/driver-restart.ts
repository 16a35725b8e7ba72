/**
 * driver-restart, for the user's provider: with volumes mounted the driver restarts; the
 * files stay readable, and unpublish afterwards works. The last step runs --rotate-cmd and
 * the remaining pod must get what the provider's Mount then answers (skipped without it).
 */
import { driverRestart, driverRestartScenario, rotationResumesStep } from '../driver-restart.js';
import { ref } from '../fixtures.js';
import type { Scenario } from '../scenario.js';
import { applySpc, checkFiles, needsRotateCmd, type ByoTarget } from './byo-target.js';
import { rotateAndProbe } from './rotation.js';

export function byoDriverRestartScenario(t: ByoTarget): Scenario {
  return driverRestart({
    title: `mounts from ${t.provider.name} survive a driver restart; unpublish and rotation work afterwards`,
    ...(driverRestartScenario.cluster ? { cluster: driverRestartScenario.cluster } : {}),
    async spc(ctx) {
      await applySpc(ctx, t);
      return t.spc.name;
    },
    readable: (ctx, pod) => checkFiles(ctx, t, pod),
    rotation: {
      name: rotationResumesStep,
      ...(t.session.canRotate ? {} : { skip: needsRotateCmd }),
      async run(ctx) {
        await rotateAndProbe(ctx, t);
        const keep = ref(ctx.namespace, 'keep');
        const started = Date.now();
        await ctx.eventually(
          async () => {
            for (const f of t.expectation.files) if (!(await ctx.cluster.readFile(keep, 'secrets', f.path)).equals(f.contents)) return false;
            return true;
          },
          'the remaining pod gets what the provider now answers',
          20_000,
          { pod: keep },
        );
        ctx.figures.rotationMs = Date.now() - started;
      },
    },
  });
}
