/**
 * Rotation as the kubelet drives it (`requiresRepublish`, the driver started with
 * --enable-secret-rotation and a short --rotation-poll-interval): a changed object reaches
 * the file and the SecretProviderClassPodStatus at a republish once the interval has
 * passed. Then three extensions beyond upstream v1.6: the object versions sent back to the
 * provider, a backoff after failed rotations, and a refresh on demand through a pod
 * annotation.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beyondUpstream, refreshAnnotation } from '../contract/extensions.js';
import { podStatusName, podStatusResource } from '../contract/pod-status.js';
import { expect, fail, pass, type CheckDef } from '../check.js';
import { spcNames } from './kit-spcs.js';
import { namespace, rotatingObject, rotationIntervalMs, type ReceivedMount } from './driver-env.js';
import { describeRpc, type DriverKit } from './driver-kit.js';
import { mountsAt } from './target-inspection.js';
import { sleep, until } from './wait.js';

const rotationSpc = spcNames.rotation;

const current = (kit: DriverKit) => kit.env.provider.store.get(rotatingObject)!;
const fileOf = (target: string) => readFile(join(target, rotatingObject), 'utf8').catch(() => undefined);
const statusObjects = (kit: DriverKit, pod: string) =>
  ((kit.env.api.store.get(podStatusResource, namespace, podStatusName(pod, namespace, rotationSpc))?.status ?? {}) as { objects?: Array<{ id: string; version: string }> }).objects;

/** Publishes `podName`'s volume of the rotating object; the check fails unless it works. */
async function publishRotating(kit: DriverKit, podName: string) {
  const spc = rotationSpc;
  const pod = kit.pod(podName, spc);
  const target = await kit.target(pod.uid);
  const request = kit.request(target, pod, spc);
  const at = Date.now();
  const o = await kit.publish(request);
  expect(o.ok, `the first publish of ${podName} failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
  return { pod, target, request, at, doneAt: Date.now() };
}

interface RotationRun {
  /** The version the volume held, and the one rotated to. */
  from: string;
  to: string;
  /** ms from the object's change until the file showed it; undefined when it never did. */
  fileMs?: number | undefined;
  /** The status's objects once the file changed. */
  objects?: Array<{ id: string; version: string }> | undefined;
  /** Mounts the provider received for the pod after the change. */
  remounts: ReceivedMount[];
  republishes: number;
  lastRepublish: string;
}

const podRotation = 'conformance-rotation';

/** The experiment the rotation checks judge: publish, change the object, republish as the kubelet does until the file changes. */
function rotationRun(kit: DriverKit): Promise<RotationRun> {
  return kit.once('rotation', async () => {
    const p = await publishRotating(kit, podRotation);
    try {
      const from = current(kit).version;
      const since = Date.now();
      const to = kit.env.rotate();
      const want = current(kit).contents.toString();
      let republishes = 0;
      let lastRepublish = '';
      const seen = await until(
        async () => {
          if (Date.now() - p.at >= rotationIntervalMs) {
            republishes++;
            lastRepublish = describeRpc(await kit.publish(p.request));
          }
          return (await fileOf(p.target)) === want;
        },
        10 * rotationIntervalMs + 5000,
        rotationIntervalMs / 4,
      );
      const fileMs = seen ? Date.now() - since : undefined;
      const objects = seen ? await until(() => statusObjects(kit, podRotation)?.find((o) => o.id === rotatingObject && o.version === to) && statusObjects(kit, podRotation), 5000) : undefined;
      const remounts = kit.env.received.filter((r) => r.pod === podRotation && r.at >= since);
      return { from, to, fileMs, objects: objects ?? statusObjects(kit, podRotation), remounts, republishes, lastRepublish };
    } finally {
      await kit.unpublish(p.target);
    }
  });
}

export const rotationChecks: ReadonlyArray<CheckDef<DriverKit>> = [
  {
    id: 'rotation',
    group: 'rotation',
    title: 'with rotation on, a republish after the interval brings a changed object to the file and the pod status',
    async run(kit) {
      const r = await rotationRun(kit);
      expect(r.fileMs !== undefined, `the file still held ${r.from} after ${r.republishes} republishes over ${10 * rotationIntervalMs + 5000} ms (last: ${r.lastRepublish})`, `the contents of ${r.to}`, `the contents of ${r.from}`);
      const entry = r.objects?.find((o) => o.id === rotatingObject);
      expect(entry?.version === r.to, `the file changed but the SecretProviderClassPodStatus records ${rotatingObject}@${entry?.version}`, r.to, r.objects);
      return pass(`${rotatingObject} ${r.from} → ${r.to}: file changed ${r.fileMs} ms after the object (interval ${rotationIntervalMs} ms, ${r.republishes} republishes), pod status records ${r.to}`, { rotationMs: r.fileMs! });
    },
  },
  {
    id: 'rotation-failure-keeps-content',
    group: 'rotation',
    title: 'a rotation the provider fails leaves the mounted content and the mount as they were',
    async run(kit) {
      const p = await publishRotating(kit, 'conformance-rotation-fails');
      try {
        const before = await fileOf(p.target);
        kit.env.rotate();
        kit.env.provider.faults.set({ mode: 'error', code: 'ConformanceRotationFault' });
        let attempted: ReceivedMount | undefined;
        try {
          attempted = await until(
            async () => {
              if (Date.now() - p.at >= rotationIntervalMs) await kit.publish(p.request);
              return kit.env.received.find((r) => r.pod === p.pod.name && r.at >= p.doneAt);
            },
            10 * rotationIntervalMs + 5000,
            rotationIntervalMs / 4,
          );
        } finally {
          kit.env.provider.faults.clear();
        }
        if (!attempted) fail('not evaluated: the driver never called the provider again (see the rotation check)', 'a rotation attempt', 'none');
        const after = await fileOf(p.target);
        const mounts = await mountsAt(p.target);
        expect(after !== undefined && after === before, `after the failed rotation the file holds ${after === undefined ? 'nothing' : 'other bytes'}`, 'the content mounted before', after === undefined ? 'missing' : `${after.length} bytes`);
        if (process.getuid?.() === 0) expect(mounts.length === 1, `after the failed rotation the target has ${mounts.length} mounts`, 1, mounts.length);
        return pass(`the rotation failed ${attempted.at - p.at} ms after the publish; the content and the mount stayed`);
      } finally {
        await kit.unpublish(p.target);
      }
    },
  },
  {
    id: 'current-object-version',
    group: 'rotation',
    title: 'a rotation sends the provider the object versions the volume holds (current_object_version)',
    beyondUpstream: beyondUpstream.currentObjectVersion,
    async run(kit) {
      const r = await rotationRun(kit);
      const first = r.remounts[0];
      if (!first) fail(`not evaluated: the provider received no Mount for ${podRotation} after the object changed`, 'a remount', 'none');
      const sent = first.request.current_object_version.map((o) => ({ id: o.id, version: o.version }));
      const want = [{ id: rotatingObject, version: r.from }];
      expect(JSON.stringify(sent) === JSON.stringify(want), `the first Mount after the change carried current_object_version ${JSON.stringify(sent)}`, want, sent);
      return pass(`current_object_version ${JSON.stringify(sent)} on the remount`);
    },
  },
  {
    id: 'rotation-backoff',
    group: 'rotation',
    title: 'failed rotations back off: republishes during a provider outage do not call the provider at every one',
    beyondUpstream: beyondUpstream.rotationBackoff,
    async run(kit) {
      const p = await publishRotating(kit, 'conformance-backoff');
      const windowMs = 5 * rotationIntervalMs;
      const everyMs = rotationIntervalMs / 4;
      kit.env.provider.faults.set({ mode: 'error', code: 'ConformanceOutage' });
      let republishes = 0;
      try {
        while (Date.now() - p.at < windowMs) {
          await sleep(everyMs);
          await kit.publish(p.request);
          republishes++;
        }
      } finally {
        kit.env.provider.faults.clear();
      }
      const times = kit.env.received.filter((r) => r.pod === 'conformance-backoff' && r.at >= p.doneAt).map((r) => `+${((r.at - p.at) / 1000).toFixed(1)}s`);
      const calls = times.length;
      const un = await kit.unpublish(p.target);
      expect(un.ok, `unpublish failed: ${describeRpc(un)}`, 'OK', describeRpc(un));
      // Attempts at the interval, then 2, 4 ... intervals apart: at most 4 in 5 intervals. Without backoff, every republish past the interval calls.
      const what = `${calls} Mount calls (${times.join(' ')}) for ${republishes} republishes over ${windowMs} ms of failing rotations (interval ${rotationIntervalMs} ms)`;
      expect(calls <= 4, `${what}: no backoff`, 'at most 4', calls);
      return pass(what, { calls, republishes });
    },
  },
  {
    id: 'refresh-annotation',
    group: 'rotation',
    title: `setting the pod annotation ${refreshAnnotation} refetches the pod's volume at once and records the value on its pod status`,
    beyondUpstream: beyondUpstream.refreshAnnotation,
    async run(kit) {
      const p = await publishRotating(kit, 'conformance-refresh');
      try {
        kit.env.rotate();
        const want = current(kit).contents.toString();
        const value = new Date().toISOString();
        const asked = Date.now();
        kit.annotatePod(p.pod.name, refreshAnnotation, value);
        const status = () => kit.env.api.store.get(podStatusResource, namespace, podStatusName(p.pod.name, namespace, rotationSpc));
        const done = await until(async () => (await fileOf(p.target)) === want && status()?.metadata.annotations?.[refreshAnnotation] === value, 5000);
        const file = (await fileOf(p.target)) === want ? 'the new contents' : 'the old contents';
        const recorded = status()?.metadata.annotations?.[refreshAnnotation];
        expect(done === true, `5 s after the annotation the file holds ${file} and the pod status records ${JSON.stringify(recorded ?? null)} (no republish was sent)`, { file: 'the new contents', [refreshAnnotation]: value }, { file, [refreshAnnotation]: recorded ?? null });
        return pass(`refetched ${Date.now() - asked} ms after the annotation, without a republish; the pod status records ${value}`);
      } finally {
        await kit.unpublish(p.target);
      }
    },
  },
];
