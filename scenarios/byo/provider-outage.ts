/**
 * provider-outage, for the user's provider. With --provider-cmd the harness started the
 * provider, so the outage is real: kill -9 of its process group, and the same command
 * starts it again. Without it the process is the user's and is left alone: the fault proxy
 * in front of it answers UNAVAILABLE for the outage instead (what the driver sees of a
 * provider that is down), and the step's name says which it was.
 */
import { providerOutage } from '../provider-outage.js';
import type { Scenario } from '../scenario.js';
import { applySpc, type ByoTarget } from './byo-target.js';

export function byoProviderOutageScenario(t: ByoTarget): Scenario {
  const real = t.session.managed;
  return providerOutage({
    title: `${real ? 'kill -9 the provider' : 'the provider unreachable (fault proxy: UNAVAILABLE)'}: pending pods wait with FailedMount, mounted pods keep whole files, all recover`,
    provider: t.provider.name,
    async spc(ctx) {
      await applySpc(ctx, t);
      return t.spc.name;
    },
    async allowed() {
      return new Map(t.expectation.files.map((f) => [f.path, new Set([f.contents.toString('base64')])]));
    },
    steady: () => t.expectation.files[0]!,
    outage: real ? `kill -9 the provider (${t.provider.name}, started by --provider-cmd)` : `the provider becomes unreachable (no --provider-cmd: the fault proxy answers UNAVAILABLE; the process is left alone)`,
    async stop() {
      if (real) await t.session.kill();
      else t.session.proxy.faults.set({ mode: 'unavailable' });
    },
    async start() {
      if (real) await t.session.restart();
      else t.session.proxy.faults.clear();
    },
  });
}
