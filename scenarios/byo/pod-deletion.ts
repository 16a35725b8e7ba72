/**
 * pod-deletion, for the user's provider: pods with two volumes of the user's
 * SecretProviderClass run; deleting them unmounts every tmpfs, removes the target and pod
 * directories, garbage-collects the pod statuses, and the driver counts every unpublish.
 */
import { podDeletion } from '../pod-deletion.js';
import type { Scenario } from '../scenario.js';
import { applySpc, type ByoTarget } from './byo-target.js';

export function byoPodDeletionScenario(t: ByoTarget): Scenario {
  return podDeletion(`volumes from ${t.provider.name} unpublished, mounts and directories gone, pod statuses collected, metrics counted`, async (ctx) => {
    await applySpc(ctx, t);
    return [t.spc.name, t.spc.name];
  });
}
