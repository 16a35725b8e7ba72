/**
 * The scenario runner as CI and users drive it: `sscsi scenarios run` on the simulated
 * cluster with JUnit and JSON output, the failure report of a check that fails (expected,
 * seen, the pod's events) and the exit codes.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { formatTable, junitXml } from '../../scenarios/report.js';
import { runScenarios } from '../../scenarios/runner.js';
import type { Scenario } from '../../scenarios/scenario.js';
import { SimCluster } from '../../cluster/sim/sim-cluster.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let proc: ManagedProcess | undefined;
let tmp: TempRoot | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = undefined;
  await tmp?.cleanup();
  tmp = undefined;
});

describe('sscsi scenarios run', () => {
  it('runs the mount and pod-deletion scenarios on the sim and writes JUnit and JSON', async () => {
    tmp = await makeTempRoot('scenarios');
    const junit = join(tmp.path, 'junit.xml');
    const json = join(tmp.path, 'results.json');
    proc = startBin('cli/main.js', ['scenarios', 'run', '--only', 'mount', '--only', 'pod-deletion', '--junit', junit, '--json', json]);
    const code = await proc.exited();
    expect(code, proc.stdout() + proc.stderr()).toBe(0);
    expect(proc.stdout()).toMatch(/▶ mount:/);
    expect(proc.stdout()).toMatch(/2\/2 scenarios passed on sim/);
    // The run says what machine it ran on, before the scenarios and above the table.
    expect(proc.stdout()).toMatch(/^machine: \d+ cores \(.+\), load [\d.]+; empty gRPC call p50 [\d.]+ ms \(reference 0\.05 ms\): waits ×[\d.]+\n\n▶ mount:/);
    expect(proc.stdout()).toMatch(/\nmachine: .*\n\nscenario +step/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="mount" tests="4" failures="0" errors="0" skipped="0"/);
    expect(xml).toMatch(/<testsuite name="pod-deletion" tests="2" failures="0"/);
    expect(xml).toMatch(/<property name="unpublished" value="10"\/>/);
    const results = JSON.parse(await readFile(json, 'utf8')) as { passed: boolean; target: string; machine: Record<string, unknown>; scenarios: Array<{ name: string; steps: Array<{ result: string }> }> };
    expect(results.passed).toBe(true);
    expect(results.machine).toMatchObject({ cores: availableParallelism(), grpcEmptyCalls: 300, referenceGrpcEmptyP50Ms: 0.05, grpcEmptyP50Ms: expect.any(Number), timeScale: expect.any(Number) });
    expect(results.machine.timeScale).toBeGreaterThanOrEqual(1);
    expect(results.target).toBe('sim');
    expect(results.scenarios.map((s) => s.name)).toEqual(['mount', 'pod-deletion']);
    expect(results.scenarios.flatMap((s) => s.steps.map((st) => st.result)).every((r) => r === 'passed')).toBe(true);
  });

  it('with --api-fault-rate, the driver still converges and the run counts the faults injected, by kind', async () => {
    tmp = await makeTempRoot('scenarios-faults');
    const json = join(tmp.path, 'results.json');
    proc = startBin('cli/main.js', ['scenarios', 'run', '--only', 'mount', '--only', 'sync', '--api-fault-rate', '0.2', '--json', json]);
    const code = await proc.exited();
    expect(code, proc.stdout() + proc.stderr()).toBe(0);
    expect(proc.stdout()).toMatch(/2\/2 scenarios passed on sim/);
    const line = /API faults injected: (\d+) \(409: (\d+), 429: (\d+), 500: (\d+), 503: (\d+), latency: (\d+)\)/.exec(proc.stdout());
    expect(line, proc.stdout()).not.toBeNull();
    const [total, c409, c429, c500, c503, latency] = line!.slice(1).map(Number) as [number, number, number, number, number, number];
    expect(total).toBe(c409 + c429 + c500 + c503 + latency);
    expect(total).toBeGreaterThan(0);
    const results = JSON.parse(await readFile(json, 'utf8')) as { apiFaults: unknown };
    expect(results.apiFaults).toEqual({ rate: 0.2, injected: total, byKind: { '409': c409, '429': c429, '500': c500, '503': c503, latency } });
  });

  it('the slow-provider storm round piles the calls up against the bound whatever the machine (--pods 24)', async () => {
    tmp = await makeTempRoot('scenarios-storm');
    const json = join(tmp.path, 'results.json');
    proc = startBin('cli/main.js', ['scenarios', 'run', '--only', 'mount-storm', '--pods', '24', '--json', json]);
    const code = await proc.exited();
    expect(code, proc.stdout() + proc.stderr()).toBe(0);
    const results = JSON.parse(await readFile(json, 'utf8')) as { scenarios: Array<{ steps: Array<{ name: string; figures: Record<string, number> }> }> };
    const slow = results.scenarios[0]!.steps.find((s) => s.name.startsWith('storm against a slow provider'))!;
    // The scenario runs the driver with --provider-max-inflight=16: the provider held 16
    // calls while the driver queued some of the other 8, and never saw more than 16.
    expect(slow.figures.heldAtBound).toBe(16);
    expect(slow.figures.driverQueuedAtBound).toBeGreaterThanOrEqual(1);
    expect(slow.figures.driverQueuedAtBound).toBeLessThanOrEqual(8);
    expect(slow.figures.providerMaxInflight).toBe(16);
  });

  it('refuses unknown scenarios and options (2) and says kind is missing (1)', async () => {
    proc = startBin('cli/main.js', ['scenarios', 'run', '--only', 'nope']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/unknown scenario nope/);
    proc = startBin('cli/main.js', ['scenarios', 'run', '--pods', '0']);
    expect(await proc.exited()).toBe(2);
    proc = startBin('cli/main.js', ['scenarios', 'run', '--runtime', 'podman']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/--runtime must be process or docker, got "podman"/);
    for (const rate of ['1.5', '-0.1', 'often', '']) {
      proc = startBin('cli/main.js', ['scenarios', 'run', `--api-fault-rate=${rate}`]);
      expect(await proc.exited()).toBe(2);
      expect(proc.stderr()).toContain(`--api-fault-rate must be a number from 0 to 1, got ${JSON.stringify(rate)}`);
    }
    proc = startBin('cli/main.js', ['scenarios', 'run', '--api-fault-rate', '0.1', '--target', 'kind']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/--api-fault-rate needs --target sim/);
    proc = startBin('cli/main.js', ['scenarios', 'run', '--target', 'kind']);
    expect(await proc.exited()).toBe(1);
    // kind is not installable on the machines this runs on: one line says so.
    expect(proc.stderr()).toBe('sscsi scenarios run --target kind: kind is not installed (no kind on PATH): install it to run on a kind cluster, or use the simulated cluster (sscsi sim up)\n');
  });

  const images = inject('images');
  it.skipIf(!images.engine || images.error !== null)('runs the mount scenario with the driver and the provider as containers (--runtime docker)', async () => {
    tmp = await makeTempRoot('scenarios-docker');
    const json = join(tmp.path, 'results.json');
    proc = startBin('cli/main.js', ['scenarios', 'run', '--runtime', 'docker', '--only', 'mount', '--json', json]);
    const code = await proc.exited();
    expect(code, proc.stdout() + proc.stderr()).toBe(0);
    expect(proc.stdout()).toMatch(/1\/1 scenarios passed on sim\+docker/);
    const results = JSON.parse(await readFile(json, 'utf8')) as { passed: boolean; target: string };
    expect(results).toMatchObject({ passed: true, target: 'sim+docker' });
  });
});

describe('a failing check', () => {
  it('reports expected, seen and the pod events, skips the rest of its scenario, and fails the run', async () => {
    const failing: Scenario = {
      name: 'broken',
      title: 'a scenario whose check fails',
      steps: [
        {
          name: 'a pod that cannot mount',
          async run(ctx) {
            await ctx.cluster.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ctx.namespace }, spec: { containers: [{ name: 'c' }], volumes: [{ name: 's', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'absent' } } }] } });
            await ctx.eventually(async () => (await ctx.cluster.events(ctx.namespace, 'p')).some((e) => e.reason === 'FailedMount'), 'FailedMount', 20_000);
            await ctx.check(false, 'the pod runs', { expected: 'Running', seen: 'Pending', pod: { namespace: ctx.namespace, name: 'p' } });
          },
        },
        { name: 'never reached', run: async () => undefined },
      ],
    };
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += c.toString()), cb()) });
    const run = await runScenarios([failing], { target: 'sim', startCluster: () => new SimCluster({ kubeletTimings: { backoffInitialMs: 100 } }).start(), out: sink });
    expect(run.passed).toBe(false);
    const steps = run.scenarios[0]!.steps;
    expect(steps.map((s) => s.result)).toEqual(['failed', 'skipped']);
    expect(steps[0]!.failure).toMatchObject({ message: 'check failed: the pod runs', expected: 'Running', seen: 'Pending' });
    expect(steps[0]!.failure!.events!.join('\n')).toMatch(/Warning FailedMount: MountVolume.SetUp failed for volume "s" : rpc error: code = NotFound/);
    expect(out).toMatch(/✗ a pod that cannot mount/);
    expect(out).toMatch(/expected: Running\n\s+seen:\s+Pending/);
    expect(out).toMatch(/pod events:\n[\s\S]*Warning FailedMount/);
    const xml = junitXml(run);
    expect(xml).toMatch(/<testsuite name="broken" tests="2" failures="1" errors="0" skipped="1"/);
    expect(xml).toMatch(/<failure message="check failed: the pod runs" type="CheckFailure">expected: &quot;Running&quot;/);
  });
});

describe('waits on a slower machine', () => {
  it("stretch by the run's time scale and say so, and the report names the machine", async () => {
    // What calibrate() would report on a machine three times slower than the reference.
    const machine = { cores: 2, cpuModel: 'test cpu', loadAverage: 0, grpcEmptyP50Ms: 0.15, grpcEmptyCalls: 300, referenceGrpcEmptyP50Ms: 0.05, timeScale: 3 };
    const never: Scenario = { name: 'never', title: 'a condition that never holds', steps: [{ name: 'wait for it', run: async (ctx) => void (await ctx.eventually(async () => false, 'the impossible', 200)) }] };
    const absent: Scenario = { name: 'absent', title: 'a pod that never exists', steps: [{ name: 'wait for it', run: (ctx) => ctx.cluster.waitForPod({ namespace: ctx.namespace, name: 'absent' }, 'Running', 200).then(() => undefined) }] };
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += c.toString()), cb()) });
    const run = await runScenarios([never, absent], { target: 'sim', startCluster: () => new SimCluster().start(), out: sink, machine });
    const [waited, podWait] = run.scenarios.map((s) => s.steps[0]!);
    expect(waited!.failure!.message).toBe('check failed: the impossible (within 600 ms = 200 ms × 3 for this machine)');
    expect(waited!.durationMs).toBeGreaterThanOrEqual(600);
    expect(podWait!.failure!.message).toMatch(/pod sc-absent\/absent did not become Running within 600 ms/);
    expect(podWait!.durationMs).toBeGreaterThanOrEqual(600);
    expect(run.machine).toEqual(machine);
    const header = 'machine: 2 cores (test cpu), load 0; empty gRPC call p50 0.15 ms (reference 0.05 ms): waits ×3';
    expect(out.startsWith(`${header}\n`)).toBe(true);
    expect(formatTable(run).split('\n')[0]).toBe(header);
  });
});
