/**
 * What kube-apiserver does with a Secret's `stringData` on every write (create, update, any
 * patch): each key is written into `data`, base64-encoded, overriding a `data` key of the same
 * name, and `stringData` itself is never stored nor returned. Found by the sim-fidelity test:
 * the sim kept `stringData` as given, so its keys were missing from `data` for every reader.
 */
import type { KubeObject } from './object-store.js';

export function foldStringData(plural: string, obj: KubeObject): void {
  if (plural !== 'secrets') return;
  const o = obj as KubeObject & { stringData?: Record<string, string>; data?: Record<string, string> };
  if (o.stringData === undefined) return;
  if (o.stringData !== null && Object.keys(o.stringData).length > 0) {
    o.data = { ...(o.data ?? {}) };
    for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete o.stringData;
}
