/**
 * Secret sync (DESIGN §3): a SecretProviderClass with `secretObjects` makes the driver on
 * the node create a Secret from the mounted files, owned by the consumer, and keep it in
 * step with rotation — judged by the contract's mapping (conformance/contract/secret-sync.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import { podStatusName, podStatusResource } from '../contract/pod-status.js';
import { bareConsumerOwner, secretType, secretValueProblem, syncedLabels } from '../contract/secret-sync.js';
import { expect, fail, pass, type CheckDef } from '../check.js';
import { namespace, rotatingObject, rotationIntervalMs } from './driver-env.js';
import { describeRpc, type DriverKit } from './driver-kit.js';
import { rotatingSecret, spcNames, syncedSecret } from './kit-spcs.js';
import { until } from './wait.js';

const secretOf = (kit: DriverKit, name: string) => kit.env.api.store.get('secrets', namespace, name) as (KubeObject & { type?: string; data?: Record<string, string> }) | undefined;
const dataOf = (s: { data?: Record<string, string> } | undefined, key: string) => (s?.data?.[key] === undefined ? undefined : Buffer.from(s.data[key]!, 'base64'));

/** The publish the sync checks judge: a bare pod mounting the sync SPC, and the Secret once it exists. */
function syncPublish(kit: DriverKit) {
  return kit.once('sync', async () => {
    const pod = kit.pod('conformance-sync', spcNames.sync);
    const target = await kit.target(pod.uid);
    const outcome = await kit.publish(kit.request(target, pod, spcNames.sync));
    const entry = syncedSecret(kit.env.objects);
    const secret = outcome.ok ? await until(() => secretOf(kit, entry.secretName), 15_000) : undefined;
    return { pod, target, outcome, entry, secret };
  });
}

export const syncChecks: ReadonlyArray<CheckDef<DriverKit>> = [
  {
    id: 'secret-sync',
    group: 'sync',
    title: 'secretObjects: the driver creates the Secret from the mounted files, with its type, the managed label and the entry labels',
    async run(kit) {
      const { target, outcome, entry, secret } = await syncPublish(kit);
      expect(outcome.ok, `the publish failed: ${describeRpc(outcome)}`, 'OK', describeRpc(outcome));
      if (!secret) fail(`no Secret ${namespace}/${entry.secretName} 15 s after the publish`, entry.secretName, kit.env.api.store.list('secrets', { namespace }).map((s) => s.metadata.name));
      const type = secretType(entry.type);
      expect(secret.type === type, `the Secret has type ${JSON.stringify(secret.type)}`, type, secret.type);
      const labels = secret.metadata.labels ?? {};
      const want = syncedLabels(entry.labels);
      expect(Object.entries(want).every(([k, v]) => labels[k] === v), 'the Secret lacks the managed label or the entry labels', want, labels);
      const problems: string[] = [];
      for (const d of entry.data) {
        const p = secretValueProblem(type, d.key, await readFile(join(target, d.objectName)), dataOf(secret, d.key));
        if (p) problems.push(p);
      }
      expect(problems.length === 0, `the Secret's data is not the mounted files: ${problems.join('; ')}`, entry.data.map((d) => `${d.key} ← ${d.objectName}`), problems);
      return pass(`${namespace}/${entry.secretName} (${type}): ${entry.data.map((d) => `${d.key} ← ${d.objectName}`).join(', ')}; labels ${Object.keys(want).join(', ')}`);
    },
  },
  {
    id: 'secret-owner',
    group: 'sync',
    title: "the synced Secret of a bare pod is owned by the pod's SecretProviderClassPodStatus (garbage-collected with the last consumer)",
    async run(kit) {
      const { pod, target, entry, secret } = await syncPublish(kit);
      try {
        if (!secret) fail(`not evaluated: no Secret ${entry.secretName} was synced`, entry.secretName, 'none');
        const status = kit.env.api.store.get(podStatusResource, namespace, podStatusName(pod.name, namespace, spcNames.sync));
        if (!status) fail('not evaluated: no SecretProviderClassPodStatus for the sync pod', 'one', 'none');
        const want = bareConsumerOwner({ name: status.metadata.name!, uid: status.metadata.uid! });
        const started = Date.now();
        const owned = await until(() => (secretOf(kit, entry.secretName)?.metadata.ownerReferences ?? []).some((o) => o.kind === want.kind && o.apiVersion === want.apiVersion && o.name === want.name && o.uid === want.uid), 15_000, 200);
        const owners = secretOf(kit, entry.secretName)?.metadata.ownerReferences ?? [];
        expect(owned === true, `15 s after the sync the Secret's owners are ${JSON.stringify(owners)}`, want, owners);
        return pass(`owned by ${want.kind} ${want.name} (${Date.now() - started} ms after the Secret was seen)`);
      } finally {
        await kit.unpublish(target);
      }
    },
  },
  {
    id: 'secret-rotation',
    group: 'sync',
    title: 'when a rotation changes a mounted object, the synced Secret follows',
    async run(kit) {
      const pod = kit.pod('conformance-sync-rotation', spcNames.syncRotation);
      const target = await kit.target(pod.uid);
      const request = kit.request(target, pod, spcNames.syncRotation);
      const at = Date.now();
      const o = await kit.publish(request);
      expect(o.ok, `the publish failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
      try {
        const key = rotatingSecret.data[0]!.key;
        const before = await until(() => dataOf(secretOf(kit, rotatingSecret.secretName), key), 15_000);
        if (!before) fail(`not evaluated: no Secret ${rotatingSecret.secretName} 15 s after the publish`, rotatingSecret.secretName, 'none');
        kit.env.rotate();
        const want = kit.env.provider.store.get(rotatingObject)!.contents;
        const rotated = await until(
          async () => {
            if (Date.now() - at >= rotationIntervalMs) await kit.publish(request);
            return (await readFile(join(target, rotatingObject)).catch(() => Buffer.alloc(0))).equals(want);
          },
          10 * rotationIntervalMs + 5000,
          rotationIntervalMs / 4,
        );
        if (!rotated) fail('not evaluated: the file did not rotate (see the rotation check)', 'the new contents in the file', 'the old contents');
        const started = Date.now();
        const followed = await until(() => dataOf(secretOf(kit, rotatingSecret.secretName), key)?.equals(want), 15_000, 200);
        expect(followed === true, `15 s after the file rotated the Secret still holds ${dataOf(secretOf(kit, rotatingSecret.secretName), key)?.equals(before) ? 'the old value' : 'another value'}`, 'the rotated file', 'the old value');
        return pass(`the Secret followed ${Date.now() - started} ms after the file rotated`);
      } finally {
        await kit.unpublish(target);
      }
    },
  },
];
