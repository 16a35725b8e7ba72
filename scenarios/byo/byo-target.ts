/**
 * What the provider-agnostic scenarios know about the user's provider, and the checks they
 * share: the user's SecretProviderClass, the provider's socket, and what its probe Mount
 * answered (the files and object versions every pod must show). Reports name files by
 * path, size and digest, never by contents.
 */
import type { ExternalProviderSpec } from '../../cluster/sim/external-provider.js';
import type { KubeObject, PodRef } from '../../cluster/cluster.js';
import { podManifest } from '../fixtures.js';
import type { StepContext } from '../scenario.js';
import { digest, type Expectation } from './provider-probe.js';
import type { SpcFile } from '../../harness/spc-file.js';

export interface ByoTarget {
  provider: ExternalProviderSpec;
  spc: SpcFile;
  expectation: Expectation;
}

/** Why a scenario or step that needs the fake provider cannot run against `provider`. */
export function needsFake(what: string, provider: string): string {
  return `needs the fake provider's control API ${what}; not available for the external provider ${provider}`;
}

/** Applies the user's SecretProviderClass in the scenario's namespace. */
export async function applySpc(ctx: StepContext, t: ByoTarget): Promise<void> {
  await ctx.cluster.apply(t.spc.manifest(ctx.namespace));
}

/** A pod mounting the user's SPC on each of `volumes` (default one volume, `secrets`). */
export function byoPod(ctx: StepContext, t: ByoTarget, name: string, volumes = ['secrets'], labels: Record<string, string> = {}): KubeObject {
  return podManifest(ctx.namespace, name, volumes.map((v) => ({ name: v, spc: t.spc.name })), labels);
}

/** Checks every expected file's contents and mode in a pod's volume. */
export async function checkFiles(ctx: StepContext, t: ByoTarget, pod: PodRef, volume = 'secrets'): Promise<void> {
  for (const f of t.expectation.files) {
    const seen = await ctx.cluster.readFile(pod, volume, f.path).catch((err: NodeJS.ErrnoException) => err);
    if (seen instanceof Error) {
      await ctx.check(false, `${pod.name}: ${volume}/${f.path} exists`, { expected: digest(f.contents), seen: `${seen.code ?? seen.message}`, pod });
      continue;
    }
    await ctx.check(seen.equals(f.contents), `${pod.name}: ${volume}/${f.path} holds what the provider answered`, { expected: digest(f.contents), seen: digest(seen), pod });
    const mode = (await ctx.cluster.statFile(pod, volume, f.path)).mode & 0o777;
    await ctx.check(mode === f.mode, `${pod.name}: ${volume}/${f.path} has mode ${f.mode.toString(8).padStart(4, '0')}`, { expected: f.mode.toString(8).padStart(4, '0'), seen: mode.toString(8).padStart(4, '0') });
  }
}
