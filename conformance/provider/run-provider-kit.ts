/**
 * Runs the provider checks against a provider socket: one probe (a client of its own), a
 * scratch directory as the target path (old providers write files there), the checks in
 * order, then everything closed and removed.
 */
import { stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecks, type KitResult } from '../check.js';
import type { SpcFile } from '../../harness/spc-file.js';
import { providerChecks } from './provider-checks.js';
import { ProviderKit } from './provider-kit.js';
import { ProviderProbe } from './provider-probe.js';

export interface ProviderKitRun {
  socket: string;
  spc: SpcFile;
  unknownSpc?: SpcFile | undefined;
  deadlineMs?: number;
  /** How long one call may take before the kit gives up on it. */
  timeoutMs?: number;
  concurrency?: number;
  maxRecvBytes?: number;
  secrets?: Record<string, string>;
  only?: readonly string[] | undefined;
  out?: NodeJS.WritableStream;
  /** Ctrl-C: finish the check running, skip the rest, clean up. */
  signal?: AbortSignal | undefined;
}

export const providerCheckIds = providerChecks.map((c) => c.id);

export async function runProviderKit(run: ProviderKitRun): Promise<KitResult> {
  const st = await stat(run.socket).catch(() => undefined);
  if (!st?.isSocket()) throw new Error(`${run.socket} is not a unix socket: start the provider first (it serves <providers dir>/<name>.sock)`);
  const scratch = await mkdtemp(join(tmpdir(), 'sscsi-conformance-provider-'));
  const probe = new ProviderProbe(run.socket, run.timeoutMs ?? 30_000);
  try {
    const kit = new ProviderKit({
      probe,
      spc: run.spc,
      unknownSpc: run.unknownSpc,
      deadlineMs: run.deadlineMs ?? 5000,
      concurrency: run.concurrency ?? 50,
      maxRecvBytes: run.maxRecvBytes ?? 4 * 1024 * 1024,
      secrets: run.secrets ?? { username: 'conformance-user', password: 'conformance-password' },
      targetPath: scratch,
    });
    return await runChecks(providerChecks, kit, { kit: 'provider', target: `unix://${run.socket}`, only: run.only, signal: run.signal, ...(run.out ? { out: run.out } : {}) });
  } finally {
    probe.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
