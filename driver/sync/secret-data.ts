/**
 * A synced Secret's data from the mounted files (upstream `secretutil`): each
 * `secretObjects[].data` entry copies the file `objectName` (as mounted) into `key`. For
 * `kubernetes.io/tls`, `tls.key` takes the private key (PKCS#1 RSA, SEC1 EC or PKCS#8) and
 * `tls.crt` the certificates, in file order, out of a PEM file — so one PEM bundle from a
 * secret store becomes a usable TLS Secret. Problems are `SyncError`s that say which
 * Secret, key and file.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SecretObject } from '../k8s/types.js';

export class SyncError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

function blocks(pem: string): Array<{ type: string; text: string }> {
  return [...pem.matchAll(pemBlock)].map((m) => ({ type: m[1]!, text: `${m[0].trim()}\n` }));
}

export function privateKeyPem(pem: string, where: string): string {
  const key = blocks(pem).find((b) => ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'].includes(b.type));
  if (!key) throw new SyncError(`${where}: no private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block) in the PEM file`, 'InvalidTLSContent');
  try {
    createPrivateKey(key.text);
  } catch (err) {
    throw new SyncError(`${where}: the ${key.type} block is not a valid key: ${(err as Error).message}`, 'InvalidTLSContent');
  }
  return key.text;
}

export function certificateChainPem(pem: string, where: string): string {
  const certs = blocks(pem).filter((b) => b.type === 'CERTIFICATE');
  if (certs.length === 0) throw new SyncError(`${where}: no CERTIFICATE block in the PEM file`, 'InvalidTLSContent');
  for (const c of certs) {
    try {
      new X509Certificate(c.text);
    } catch (err) {
      throw new SyncError(`${where}: a CERTIFICATE block is not a valid certificate: ${(err as Error).message}`, 'InvalidTLSContent');
    }
  }
  return certs.map((c) => c.text).join('');
}

/** The Secret's `data` (base64 values) for one secretObjects entry, read from `targetPath`. */
export async function secretData(targetPath: string, entry: SecretObject): Promise<Record<string, string>> {
  const type = entry.type || 'Opaque';
  const data: Record<string, string> = {};
  for (const d of entry.data ?? []) {
    const where = `Secret ${JSON.stringify(entry.secretName)} key ${JSON.stringify(d.key)} from object ${JSON.stringify(d.objectName)}`;
    if (!d.key || !d.objectName) throw new SyncError(`${where}: secretObjects data entries need both objectName and key`, 'InvalidSecretObject');
    const file = resolve(targetPath, d.objectName);
    if (!file.startsWith(`${targetPath}/`)) throw new SyncError(`${where}: objectName must name a file inside the volume`, 'InvalidSecretObject');
    let bytes: Buffer;
    try {
      bytes = await readFile(join(targetPath, d.objectName));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SyncError(
        code === 'ENOENT' ? `${where}: the volume has no file ${JSON.stringify(d.objectName)}; objectName must match a file the SecretProviderClass mounts` : `${where}: ${(err as Error).message}`,
        'FileNotFound',
      );
    }
    data[d.key] = secretValue(type, d.key, bytes, where).toString('base64');
  }
  return data;
}

/**
 * The value a Secret of `type` holds under `key` for a mounted file's bytes: for
 * kubernetes.io/tls, `tls.key` and `tls.crt` take the private key and the certificate chain
 * out of the PEM; any other key takes the bytes as they are.
 */
export function secretValue(type: string, key: string, bytes: Buffer, where: string): Buffer {
  if (type === 'kubernetes.io/tls' && key === 'tls.key') return Buffer.from(privateKeyPem(bytes.toString('utf8'), where));
  if (type === 'kubernetes.io/tls' && key === 'tls.crt') return Buffer.from(certificateChainPem(bytes.toString('utf8'), where));
  return bytes;
}
