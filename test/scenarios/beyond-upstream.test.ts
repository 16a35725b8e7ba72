/**
 * The runner's rule for steps beyond upstream: run against our driver, skipped with the
 * reason (and the binary) against another one; the steps after still run, and the run
 * passes. The cluster here only takes the namespace the runner creates: the rule is the
 * runner's own, whatever the cluster.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { junitXml, summaryLine } from '../../scenarios/report.js';
import { runScenarios } from '../../scenarios/runner.js';
import type { Scenario } from '../../scenarios/scenario.js';
import type { Cluster } from '../../cluster/cluster.js';
import { splitUpstreamFlags } from '../../harness/upstream-flags.js';

const ran: string[] = [];
const scenario: Scenario = {
  name: 'ext',
  title: 'a contract step, an extension, a contract step',
  steps: [
    { name: 'contract one', run: async () => void ran.push('contract one') },
    { name: 'our extension', beyondUpstream: 'the in-flight bound (--provider-max-inflight)', run: async () => void ran.push('our extension') },
    { name: 'contract two', run: async () => void ran.push('contract two') },
  ],
};
const cluster = { apply: async () => [], stop: async () => undefined } as unknown as Cluster;
const quiet = new Writable({ write: (_c, _e, cb) => cb() });

describe('steps beyond upstream', () => {
  it('run against our driver', async () => {
    ran.length = 0;
    const run = await runScenarios([scenario], { target: 'sim', startCluster: async () => cluster, out: quiet });
    expect(ran).toEqual(['contract one', 'our extension', 'contract two']);
    expect(run.passed).toBe(true);
    expect(run).not.toHaveProperty('driverBin');
  });

  it('are skipped with the reason against another driver binary; the rest runs and the run passes', async () => {
    ran.length = 0;
    const run = await runScenarios([scenario], { target: 'sim', startCluster: async () => cluster, out: quiet, driverBin: '/opt/upstream/secrets-store-csi-driver' });
    expect(ran).toEqual(['contract one', 'contract two']);
    expect(run.passed).toBe(true);
    expect(run.driverBin).toBe('/opt/upstream/secrets-store-csi-driver');
    const step = run.scenarios[0]!.steps[1]!;
    expect(step).toMatchObject({ name: 'our extension', result: 'skipped', skipReason: 'beyond upstream: the in-flight bound (--provider-max-inflight); the driver under test is /opt/upstream/secrets-store-csi-driver' });
    expect(summaryLine(run)).toMatch(/^1\/1 scenarios passed, 1 step skipped on sim \(driver \/opt\/upstream\/secrets-store-csi-driver\) in /);
    expect(junitXml(run)).toContain('<skipped message="beyond upstream: the in-flight bound (--provider-max-inflight); the driver under test is /opt/upstream/secrets-store-csi-driver"/>');
  });
});

describe("the flags another driver binary is given (upstream's, harness/upstream-flags.ts)", () => {
  it('keeps upstream flags, klog and --kubeconfig in any Go spelling; leaves ours out with their values', () => {
    const args = ['--enable-secret-rotation', '--rotation-poll-interval=1s', '-v=2', '--kubeconfig', '/k', '--provider-max-inflight=16', '--mount-mode', 'dir', '-provider-timeout=5s', '--log-format-json'];
    expect(splitUpstreamFlags(args)).toEqual({
      upstream: ['--enable-secret-rotation', '--rotation-poll-interval=1s', '-v=2', '--kubeconfig', '/k', '--log-format-json'],
      ours: ['--provider-max-inflight=16', '--mount-mode', 'dir', '-provider-timeout=5s'],
    });
  });
});
