/**
 * A Secret's `stringData` as the API server treats it: a write-only convenience merged into
 * `data` (base64) on every write, never stored or returned (core/v1 conversion); and its
 * `type` defaulted to Opaque, as on every decode.
 */
import type { KubeObject } from './object-store.js';

export function foldStringData(secret: KubeObject): void {
  secret.type ??= 'Opaque';
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData === undefined) return;
  const data = { ...((secret.data as Record<string, string> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(stringData ?? {})) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  delete secret.stringData;
  if (Object.keys(data).length > 0) secret.data = data;
}
