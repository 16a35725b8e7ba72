/**
 * Runs the command list on two sides — the sim and a real kube-apiserver — step by step,
 * both sides of a step at once, and records for each: the raw outcome of each side, the
 * normalised one (normalise.ts) and the differences (compare.ts). Nothing here judges: the
 * allow-list does (allow-list.ts).
 */
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { differences, type Normalised } from './compare.js';
import { dropPath, normaliseObject, normaliseText, type NormaliseContext } from './normalise.js';
import { isKubectl, stepTitle, type Outcome, type Precondition, type Step } from './step.js';

export type SideName = 'sim' | 'real';

export interface FidelitySide {
  name: SideName;
  kubeconfig: string;
  /** The kubectl binary (the same one on both sides). */
  kubectl: string;
  /** kubectl's discovery cache for this side, and the side's own files (replaced by `<dir>` in outputs). */
  workDir: string;
  /** The API server's URL (replaced by `<server>` in outputs). */
  serverUrl: string;
  /** This checkout's root: `@repo/` in an argument. */
  repoRoot: string;
}

export interface SideOutcome {
  raw: Outcome;
  normalised: Normalised;
  /** The step's precondition: met, or what was last seen when it timed out. */
  precondition?: { met: boolean; ms: number };
  ms: number;
}

export interface StepResult {
  step: Step;
  title: string;
  sim: SideOutcome;
  real: SideOutcome;
  differences: string[];
}

const kubectlTimeoutMs = 90_000;

async function kubectl(side: FidelitySide, args: readonly string[], stdin?: string): Promise<Outcome> {
  const resolved = args.map((a) => a.replace(/^@repo\//, `${side.repoRoot}/`));
  const r = await execa(side.kubectl, ['--kubeconfig', side.kubeconfig, '--cache-dir', `${side.workDir}/kubectl-cache`, ...resolved], {
    reject: false,
    timeout: kubectlTimeoutMs,
    ...(stdin !== undefined ? { input: stdin } : { stdin: 'ignore' }),
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.timedOut ? `${r.stderr}\n(killed after ${kubectlTimeoutMs} ms)` : r.stderr };
}

async function client(side: FidelitySide, run: (kc: KubeConfig) => Promise<unknown>): Promise<Outcome> {
  const kc = new KubeConfig();
  kc.loadFromFile(side.kubeconfig);
  try {
    return { exitCode: 0, stdout: JSON.stringify(await run(kc)), stderr: '' };
  } catch (err) {
    if (err instanceof ApiException) return { exitCode: err.code, stdout: typeof err.body === 'string' ? err.body : JSON.stringify(err.body), stderr: '' };
    return { exitCode: -1, stdout: '', stderr: `${(err as Error).message ?? String(err)}` };
  }
}

async function awaitPrecondition(side: FidelitySide, pre: Precondition): Promise<{ met: boolean; ms: number }> {
  const started = Date.now();
  const deadline = started + (pre.timeoutMs ?? 30_000);
  for (;;) {
    if (pre.ok(await kubectl(side, pre.kubectl))) return { met: true, ms: Date.now() - started };
    if (Date.now() > deadline) return { met: false, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 100));
  }
}

function parseStdout(step: Step, stdout: string, ctx: NormaliseContext): Normalised['stdout'] {
  const text = { text: normaliseText(stdout, ctx) };
  if (!step.output || step.output === 'text' || stdout.trim() === '') return text;
  let value: unknown;
  try {
    if (step.output === 'json') value = JSON.parse(stdout);
    else {
      const docs = parseAllDocuments(stdout);
      if (Array.isArray(docs) && docs.some((d) => d.errors.length > 0)) return text;
      const all = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as unknown);
      value = all.length === 1 ? all[0] : all;
    }
  } catch {
    return text;
  }
  const json = normaliseObject(value, ctx);
  for (const { path } of step.ignore ?? []) dropPath(json, path);
  return { json };
}

async function runOnSide(step: Step, side: FidelitySide): Promise<SideOutcome> {
  const precondition = step.before ? await awaitPrecondition(side, step.before) : undefined;
  const started = Date.now();
  const raw = isKubectl(step) ? await kubectl(side, step.kubectl, step.stdin) : await client(side, step.run);
  const ctx: NormaliseContext = {
    replace: [
      [side.serverUrl, '<server>'],
      [side.workDir, '<dir>'],
      [side.repoRoot, '<repo>'],
    ],
    ...(step.generatedNames ? { generatedNames: step.generatedNames } : {}),
  };
  const normalised: Normalised = { exitCode: raw.exitCode, stderr: normaliseText(raw.stderr, ctx), stdout: parseStdout(step, raw.stdout, ctx) };
  return { raw, normalised, ms: Date.now() - started, ...(precondition ? { precondition } : {}) };
}

export async function runStep(step: Step, sim: FidelitySide, real: FidelitySide): Promise<StepResult> {
  const [s, r] = await Promise.all([runOnSide(step, sim), runOnSide(step, real)]);
  const diffs = differences(s.normalised, r.normalised);
  if (step.before && s.precondition?.met !== r.precondition?.met) {
    diffs.unshift(`precondition "${step.before.what}": sim ${s.precondition?.met ? 'met' : 'not met'} (${s.precondition?.ms} ms), real ${r.precondition?.met ? 'met' : 'not met'} (${r.precondition?.ms} ms)`);
  }
  return { step, title: stepTitle(step), sim: s, real: r, differences: diffs };
}

/** Every step in order; `onResult` sees each as it completes. */
export async function runSteps(steps: readonly Step[], sim: FidelitySide, real: FidelitySide, onResult?: (r: StepResult) => void): Promise<StepResult[]> {
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) throw new Error(`step id ${s.id} is used twice`);
    ids.add(s.id);
  }
  const results: StepResult[] = [];
  for (const step of steps) {
    const r = await runStep(step, sim, real);
    results.push(r);
    onResult?.(r);
  }
  return results;
}
