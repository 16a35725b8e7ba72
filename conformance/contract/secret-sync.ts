/**
 * The Secrets a driver syncs from a mounted volume, as the checks state them (DESIGN §3
 * "Secret sync"; upstream's controllers/secretproviderclasspodstatus_controller.go and
 * pkg/util/secretutil): for each `spec.secretObjects` entry a Secret named `secretName` in
 * the pod's namespace, of `type` (Opaque when empty), labelled
 * `secrets-store.csi.k8s.io/managed=true` plus the entry's labels, whose `data[key]` is the
 * mounted file `objectName` — for `kubernetes.io/tls`, `tls.key` is the file's private key
 * and `tls.crt` its certificates in order, each as PEM. Keys and certificates are compared
 * as keys and certificates (upstream re-encodes a PKCS#8 key as PKCS#1 or SEC 1; any PEM
 * encoding of the same key is the same key). Nothing here comes from the driver under test.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';

export const managedLabel = 'secrets-store.csi.k8s.io/managed';
export const tlsType = 'kubernetes.io/tls';

export const secretType = (type: string | undefined) => (type ? type : 'Opaque');

/** The labels a synced Secret carries (it may carry more). */
export const syncedLabels = (entryLabels: Record<string, string> | undefined) => ({ [managedLabel]: 'true', ...entryLabels });

const pemBlocks = (text: string) => [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g)].map((m) => ({ type: m[1]!, text: `${m[0]}\n` }));

/** The DER of each certificate in a PEM text, in order. */
function certificates(text: string): string[] {
  return pemBlocks(text)
    .filter((b) => b.type === 'CERTIFICATE')
    .map((b) => new X509Certificate(b.text).raw.toString('base64'));
}

/** The private key in a PEM text as PKCS#8 DER (base64), or undefined without one. */
function privateKey(text: string): string | undefined {
  const block = pemBlocks(text).find((b) => b.type !== 'CERTIFICATE');
  if (!block) return undefined;
  return createPrivateKey(block.text).export({ type: 'pkcs8', format: 'der' }).toString('base64');
}

/**
 * Whether `value` is what a Secret of `type` must hold under `key` for a mounted file of
 * `file` bytes; undefined when it is, else what differs (never a byte of either).
 */
export function secretValueProblem(type: string, key: string, file: Buffer, value: Buffer | undefined): string | undefined {
  if (value === undefined) return `no key ${key}`;
  try {
    if (type === tlsType && key === 'tls.key') {
      const want = privateKey(file.toString('utf8'));
      if (want === undefined) return `${key}: the mounted file holds no private key, so no value can be right`;
      return privateKey(value.toString('utf8')) === want ? undefined : `${key} does not hold the mounted file's private key`;
    }
    if (type === tlsType && key === 'tls.crt') {
      const want = certificates(file.toString('utf8'));
      const got = certificates(value.toString('utf8'));
      return want.length > 0 && got.length === want.length && got.every((c, i) => c === want[i]) ? undefined : `${key} holds ${got.length} certificate(s), not the mounted file's ${want.length} in order`;
    }
    return value.equals(file) ? undefined : `${key} holds ${value.length} bytes, not the mounted file's ${file.length}`;
  } catch (err) {
    return `${key}: ${(err as Error).message}`;
  }
}

/**
 * The ownerReference a synced Secret gets from a consumer with no owner of its own (a bare
 * pod): the consumer's SecretProviderClassPodStatus, so the Secret is garbage-collected
 * with the last consumer (upstream's controller patches it in every 5 s). A pod with owners
 * (e.g. a ReplicaSet) gives those instead.
 */
export const bareConsumerOwner = (podStatus: { name: string; uid: string }) => ({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', name: podStatus.name, uid: podStatus.uid });
