/**
 * What a csi-sanity run found, read from the Ginkgo JSON report it writes beside its JUnit
 * (`--ginkgo.json-report`): one entry per spec with its full name (containers and leaf, as
 * `-ginkgo.skip` matches it), its state, and the failure message. The JSON is Ginkgo's own
 * machine format; the JUnit stays untouched for CI.
 */
import { readFile } from 'node:fs/promises';

export type SpecState = 'passed' | 'failed' | 'skipped' | 'pending';

export interface SpecOutcome {
  /** e.g. "Node Service NodePublishVolume should fail when no volume id is provided". */
  name: string;
  state: SpecState;
  /** The failure message, or the reason a spec skipped itself. */
  message?: string;
}

export interface SanityCounts {
  passed: number;
  failed: number;
  skipped: number;
  pending: number;
  total: number;
}

/** The parts of Ginkgo's types.Report the runner reads. */
interface GinkgoSpecReport {
  LeafNodeType: string;
  ContainerHierarchyTexts?: string[] | null;
  LeafNodeText?: string;
  State: string;
  Failure?: { Message?: string };
}

/** Ginkgo's failure-like states (panicked, interrupted, aborted, timedout) all count as failed. */
function state(s: string): SpecState {
  if (s === 'passed' || s === 'skipped' || s === 'pending') return s;
  return 'failed';
}

/** The specs of a report (its setup and teardown nodes left out, unless they failed). */
export async function readSanityReport(path: string): Promise<SpecOutcome[]> {
  const suites = JSON.parse(await readFile(path, 'utf8')) as Array<{ SpecReports?: GinkgoSpecReport[] | null }>;
  const specs: SpecOutcome[] = [];
  for (const suite of suites) {
    for (const r of suite.SpecReports ?? []) {
      const s = state(r.State);
      if (r.LeafNodeType !== 'It' && s !== 'failed') continue;
      const name = [...(r.ContainerHierarchyTexts ?? []), r.LeafNodeText ?? r.LeafNodeType].filter(Boolean).join(' ');
      specs.push({ name, state: s, ...(r.Failure?.Message ? { message: r.Failure.Message } : {}) });
    }
  }
  return specs;
}

export function countSpecs(specs: readonly SpecOutcome[]): SanityCounts {
  const n = (s: SpecState) => specs.filter((x) => x.state === s).length;
  return { passed: n('passed'), failed: n('failed'), skipped: n('skipped'), pending: n('pending'), total: specs.length };
}
