/**
 * The sim measured against the real thing (issue 19, part 3): the command list of
 * cluster/fidelity/commands.ts — kubectl as the README, upstream's docs and e2e steps use it,
 * and client-node calls — run against `SimCluster` (what `sscsi sim up` runs) and against a
 * real kube-apiserver v1.34 with etcd and kube-controller-manager (no scheduler, no kubelet,
 * no node lock), with the same kubectl. Outputs are normalised and compared; every difference
 * must be on the allow-list (cluster/fidelity/allow-list.ts) with its reason, and every entry
 * there must still differ.
 *
 * Prints the table of every step. SIM_FIDELITY_REPORT=1 prints every difference in detail,
 * allowed ones included; SIM_FIDELITY_REPORT=FILE.json also writes all outcomes there.
 * Skips naming the missing binary when the peers are not built (`npm run peers`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowList } from '../../cluster/fidelity/allow-list.js';
import { apiControlPlaneMissing, startApiControlPlane, type ApiControlPlane } from '../../cluster/fidelity/api-control-plane.js';
import { fidelitySteps } from '../../cluster/fidelity/commands.js';
import { runSteps, type FidelitySide, type StepResult } from '../../cluster/fidelity/runner.js';
import { formatTable, judge } from '../../cluster/fidelity/verdict.js';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { packageRoot } from '../../driver/version.js';
import { requireBinary } from '../../cluster/k8s/control-plane/binaries.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const skipReason = apiControlPlaneMissing();
const report = process.env.SIM_FIDELITY_REPORT;

describe.skipIf(skipReason !== undefined)(`the sim next to a real kube-apiserver${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let tmp: TempRoot;
  let sim: StartedSimCluster | undefined;
  let real: ApiControlPlane | undefined;
  let results: StepResult[] = [];

  beforeAll(async () => {
    tmp = await makeTempRoot('sim-fidelity');
    const started = performance.now();
    // Both at once; each kept as soon as it is up, so afterAll stops it even when the other failed.
    const started2 = await Promise.allSettled([
      new SimCluster({ stateDir: join(tmp.path, 'sim') }).start().then((c) => (sim = c)),
      startApiControlPlane({ stateDir: join(tmp.path, 'real'), log: (l) => console.log(l) }).then((p) => (real = p)),
    ]);
    for (const s of started2) if (s.status === 'rejected') throw s.reason;
    console.log(`sim and real API server up in ${Math.round(performance.now() - started)} ms`);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([sim?.stop(), real?.stop()]);
    await tmp?.cleanup();
  }, 120_000);

  it('every command answers the same on both, or its difference is on the allow-list with a reason; no entry is stale', async () => {
    const kubectl = requireBinary('kubectl');
    const repoRoot = packageRoot();
    const side = (name: 'sim' | 'real', kubeconfig: string, serverUrl: string): FidelitySide => ({ name, kubeconfig, kubectl, workDir: join(tmp.path, name), serverUrl, repoRoot });
    const started = performance.now();
    results = await runSteps(fidelitySteps, side('sim', sim!.kubeconfig, sim!.api.url), side('real', real!.kubeconfig, real!.apiServerUrl));
    const judgement = judge(results, allowList);
    console.log(`${fidelitySteps.length} steps on both sides in ${Math.round(performance.now() - started)} ms\n${formatTable(judgement, { details: report ? 'all' : 'failures' })}`);
    if (report && report !== '1') {
      await writeFile(report, JSON.stringify(judgement.judged.map((j) => ({ id: j.result.step.id, title: j.result.title, verdict: j.verdict, allowed: j.entries.map((e) => ({ kind: e.kind, reason: e.reason, stale: j.stale.includes(e) })), differences: j.result.differences, unexplained: j.unexplained, sim: j.result.sim.raw, real: j.result.real.raw })), null, 2));
      console.log(`wrote ${report}`);
    }
    expect(judgement.unknownEntries.map((e) => e.id), 'allow-list entries that name no step').toEqual([]);
    expect(judgement.failures.map((f) => `${f.result.step.id}: ${f.verdict}`), 'unexplained differences and stale allow-list entries (table above)').toEqual([]);
  }, 600_000);
});
