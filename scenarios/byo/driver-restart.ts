/**
 * driver-restart, for the user's provider: with volumes mounted the driver restarts; the
 * files stay readable, and unpublish afterwards works. The last step (rotation resumes)
 * changes an object through the fake provider's control API and is skipped.
 */
import { driverRestart, rotationResumesStep } from '../driver-restart.js';
import type { Scenario } from '../scenario.js';
import { applySpc, checkFiles, needsFake, type ByoTarget } from './byo-target.js';

export function byoDriverRestartScenario(t: ByoTarget): Scenario {
  return driverRestart({
    title: `mounts from ${t.provider.name} survive a driver restart; unpublish works afterwards`,
    async spc(ctx) {
      await applySpc(ctx, t);
      return t.spc.name;
    },
    readable: (ctx, pod) => checkFiles(ctx, t, pod),
    rotation: { name: rotationResumesStep, skip: needsFake('to change an object', t.provider.name), run: async () => undefined },
  });
}
