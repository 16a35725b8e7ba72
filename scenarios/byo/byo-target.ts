/**
 * What the provider-agnostic scenarios know about the user's provider, and the checks they
 * share: the user's SecretProviderClass, the provider's socket, and what its probe Mount
 * answered (the files and object versions every pod must show). Reports name files by
 * path, size and digest, never by contents.
 */
import type { ProviderSession } from '../../provider-proxy/provider-session.js';
import type { ExternalProviderSpec } from '../../cluster/sim/external-provider.js';
import type { KubeObject, PodRef } from '../../cluster/cluster.js';
import { podManifest } from '../fixtures.js';
import type { StepContext } from '../scenario.js';
import { digest, type Expectation } from './provider-probe.js';
import type { SpcFile } from '../../harness/spc-file.js';

/** A `spec.secretObjects` entry, as the SPC file states it. */
type SecretObject = SpcFile['secretObjects'][number];

export interface ByoTarget {
  /** The provider's name and the author's socket (the nodes reach it through the fault proxy). */
  provider: ExternalProviderSpec;
  spc: SpcFile;
  /** What the provider's Mount answers now: probed before the run and again after each --rotate-cmd. */
  expectation: Expectation;
  /** The fault proxy in front of the provider, and the lifecycle hooks (--provider-cmd, --rotate-cmd). */
  session: ProviderSession;
  /** Calls the provider's Mount again as the probe did; the answer becomes `expectation`. */
  reprobe(): Promise<Expectation>;
}

/** Why a step that changes an object cannot run: there is no --rotate-cmd. */
export const needsRotateCmd = 'needs --rotate-cmd: how to change an object in the provider backend (the harness cannot know)';

/** A Secret key made of a file path: the characters a key may not hold become `-`. */
const secretKey = (path: string) => path.replace(/[^-._a-zA-Z0-9]/g, '-');

/**
 * What the sync checks run with: the SPC's own `secretObjects`, or, when it has none, one
 * derived from the files the provider answered — a Secret `<spc>-synced` with one key per
 * file — applied in a copy of the SPC.
 */
export function syncEntries(t: ByoTarget): { entries: SecretObject[]; derived: boolean } {
  if (t.spc.secretObjects.length > 0) return { entries: t.spc.secretObjects, derived: false };
  const data = t.expectation.files.map((f) => ({ objectName: f.path, key: secretKey(f.path) }));
  return { entries: [{ secretName: `${t.spc.name}-synced`, type: 'Opaque', data }], derived: true };
}

/** Applies the user's SecretProviderClass in the scenario's namespace; with `sync`, with the entries of `syncEntries`. */
export async function applySpc(ctx: StepContext, t: ByoTarget, options: { sync?: boolean } = {}): Promise<void> {
  const manifest = t.spc.manifest(ctx.namespace);
  if (options.sync) (manifest.spec as { secretObjects?: SecretObject[] }).secretObjects = syncEntries(t).entries;
  await ctx.cluster.apply(manifest);
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
