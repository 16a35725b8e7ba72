/**
 * Secret sync (DESIGN §3): a SecretProviderClass with `secretObjects` makes the driver on
 * the node create a Secret from the mounted files, judged by the contract's mapping
 * (conformance/contract/secret-sync.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { secretType, secretValueProblem, syncedLabels } from '../contract/secret-sync.js';
import { expect, pass, type CheckDef } from '../check.js';
import { namespace } from './driver-env.js';
import { spcNames, syncedSecret } from './kit-spcs.js';
import { describeRpc, type DriverKit } from './driver-kit.js';
import { until } from './wait.js';


export const syncChecks: ReadonlyArray<CheckDef<DriverKit>> = [
  {
    id: 'secret-sync',
    group: 'sync',
    title: 'secretObjects: the driver creates the Secret from the mounted files, with its type, the managed label and the entry labels',
    async run(kit) {
      const entry = syncedSecret(kit.env.objects);
      const secretName = entry.secretName;
      const spc = spcNames.sync;
      const pod = kit.pod('conformance-sync', spc);
      const target = await kit.target(pod.uid);
      const o = await kit.publish(kit.request(target, pod, spc));
      expect(o.ok, `the publish failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
      try {
        const secret = await until(() => kit.env.api.store.get('secrets', namespace, secretName), 15_000);
        expect(secret !== undefined, `no Secret ${namespace}/${secretName} 15 s after the publish`, secretName, kit.env.api.store.list('secrets', { namespace }).map((s) => s.metadata.name));
        const type = secretType(entry.type);
        expect((secret as { type?: string }).type === type, `the Secret has type ${JSON.stringify((secret as { type?: string }).type)}`, type, (secret as { type?: string }).type);
        const labels = secret.metadata.labels ?? {};
        const want = syncedLabels(entry.labels);
        expect(Object.entries(want).every(([k, v]) => labels[k] === v), 'the Secret lacks the managed label or the entry labels', want, labels);
        const data = ((secret as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
        const problems: string[] = [];
        for (const d of entry.data) {
          const file = await readFile(join(target, d.objectName));
          const p = secretValueProblem(type, d.key, file, data[d.key] === undefined ? undefined : Buffer.from(data[d.key]!, 'base64'));
          if (p) problems.push(p);
        }
        expect(problems.length === 0, `the Secret's data is not the mounted files: ${problems.join('; ')}`, entry.data.map((d) => `${d.key} ← ${d.objectName}`), problems);
        return pass(`${namespace}/${secretName} (${type}): ${entry.data.map((d) => `${d.key} ← ${d.objectName}`).join(', ')}; labels ${Object.keys(want).join(', ')}`);
      } finally {
        await kit.unpublish(target);
      }
    },
  },
];
