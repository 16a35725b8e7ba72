/**
 * Failures a first mount must survive with the target left clean, so the kubelet's retry
 * starts fresh: a SecretProviderClass missing from the pod's namespace, a path trick in
 * spec.provider, a provider file path leaving the volume, a provider unavailable, failing
 * or hanging — each named in the message, the retries working once the cause is gone.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect, pass, type CheckDef } from '../check.js';
import { namespace, providerName } from './driver-env.js';
import { describeRpc, type DriverKit, type RpcOutcome } from './driver-kit.js';
import { spcNames } from './kit-spcs.js';
import { expectClean } from './rpc-expectations.js';
import { describeState, isClean, targetState } from './target-inspection.js';

/** Polls until the target is clean or `timeoutMs` passes. */
async function eventuallyClean(target: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (isClean(await targetState(target))) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A first mount that must fail: publishes, expects an error, and a clean target. */
async function failedFirstMount(kit: DriverKit, podName: string, spc: string, deadlineMs?: number): Promise<{ outcome: RpcOutcome; target: string }> {
  const pod = kit.pod(podName);
  const target = await kit.target(pod.uid);
  const outcome = await kit.publish(kit.request(target, pod, spc), deadlineMs);
  expect(!outcome.ok, 'the publish succeeded where it had to fail', 'an error', describeRpc(outcome));
  expect(outcome.details.trim() !== '', `${outcome.code} without a message: the pod's FailedMount event would say nothing`, 'a message naming the cause', outcome);
  return { outcome, target };
}

/** Runs `body` with a provider fault set, clearing it whatever happens. */
async function withFault<T>(kit: DriverKit, fault: Parameters<DriverKit['env']['provider']['faults']['set']>[0], body: () => Promise<T>): Promise<T> {
  kit.env.provider.faults.set(fault);
  try {
    return await body();
  } finally {
    kit.env.provider.faults.clear();
  }
}

/** After a failure, the same volume must publish once the cause is gone (the driver holds nothing). */
async function recovers(kit: DriverKit, podName: string, target: string): Promise<string> {
  const pod = kit.pod(podName);
  const again = await kit.publish(kit.request(target, pod, kit.mainSpc()));
  expect(again.ok, `after the fault was cleared the retry still failed: ${describeRpc(again)}`, 'OK', describeRpc(again));
  const un = await kit.unpublish(target);
  expect(un.ok, `unpublish after the retry failed: ${describeRpc(un)}`, 'OK', describeRpc(un));
  return `the kubelet's retry after the fault succeeded (${again.ms.toFixed(0)} ms)`;
}


export const failureChecks: ReadonlyArray<CheckDef<DriverKit>> = [
  {
    id: 'missing-spc',
    group: 'failures',
    title: "a SecretProviderClass missing from the pod's namespace fails, naming it, with the target left clean",
    async run(kit) {
      const { outcome, target } = await failedFirstMount(kit, 'conformance-missing-spc', spcNames.elsewhere);
      expect(outcome.details.includes('conformance-elsewhere') && outcome.details.includes(namespace), 'the message does not name the SecretProviderClass and the namespace', `conformance-elsewhere in ${namespace}`, outcome.details);
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'provider-name-attack',
    group: 'failures',
    title: 'a spec.provider with a path in it ("../trap") is refused without contacting anything, target left clean',
    async run(kit) {
      const before = kit.env.trap.service.requests;
      const { outcome, target } = await failedFirstMount(kit, 'conformance-provider-attack', spcNames.attack);
      const calls = kit.env.trap.service.requests - before;
      expect(calls === 0, `the driver called the socket "../trap" resolves to (${calls} Mount call(s)): the provider name must match ^[a-zA-Z0-9_-]{0,30}$`, 0, calls);
      await expectClean(target, 'the mount was refused');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'file-path-attack',
    group: 'failures',
    title: 'a provider file path leaving the volume ("../escaped-secret") fails the mount, nothing written outside, target left clean',
    async run(kit) {
      const { outcome, target } = await withFault(kit, { mode: 'bad-path' }, () => failedFirstMount(kit, 'conformance-path-attack', kit.mainSpc()));
      for (const dir of [dirname(target), target]) {
        const escaped = await stat(join(dir, 'escaped-secret')).catch(() => undefined);
        expect(escaped === undefined, `escaped-secret was written to ${dir}`, 'nothing outside the payload', join(dir, 'escaped-secret'));
      }
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'provider-unavailable',
    group: 'failures',
    title: 'a provider answering UNAVAILABLE fails the mount naming the provider, target left clean; the retry then works',
    async run(kit) {
      const { outcome, target } = await withFault(kit, { mode: 'unavailable' }, () => failedFirstMount(kit, 'conformance-unavailable', kit.mainSpc()));
      expect(outcome.details.includes(providerName), 'the message does not name the provider', providerName, outcome.details);
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}; ${await recovers(kit, 'conformance-unavailable', target)}`);
    },
  },
  {
    id: 'provider-error',
    group: 'failures',
    title: "a provider error code fails the mount with the code in the message, target left clean",
    async run(kit) {
      const { outcome, target } = await withFault(kit, { mode: 'error', code: 'ConformanceFault' }, () => failedFirstMount(kit, 'conformance-provider-error', kit.mainSpc()));
      expect(outcome.details.includes('ConformanceFault'), "the message does not carry the provider's error code", 'ConformanceFault', outcome.details);
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'provider-deadline',
    group: 'failures',
    title: "a provider that never answers fails the mount by the kubelet's deadline, the target is cleaned, and the retry works",
    async run(kit) {
      const deadline = kit.options.hangDeadlineMs;
      const { outcome, target } = await withFault(kit, { mode: 'hang' }, async () => {
        const r = await failedFirstMount(kit, 'conformance-deadline', kit.mainSpc(), deadline);
        // The driver may still be unwinding after the caller gave up; give it a little past the deadline.
        const clean = await eventuallyClean(r.target, deadline + 5000);
        const left = clean ? '' : describeState(await targetState(r.target));
        expect(clean, `${deadline + 5000} ms after the deadline the target is still ${left}`, 'clean', left);
        return r;
      });
      return pass(`${outcome.code} after ${outcome.ms.toFixed(0)} ms (deadline ${deadline} ms): ${outcome.details}; ${await recovers(kit, 'conformance-deadline', target)}`);
    },
  },
];
