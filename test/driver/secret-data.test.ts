/**
 * Building a synced Secret's data from mounted files: plain copies, and the TLS split of a
 * PEM bundle for every private key encoding (PKCS#1 RSA, SEC1 EC, PKCS#8) with the chain
 * in order; clear errors for what is missing or malformed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../driver/version.js';
import { certificateChainPem, privateKeyPem, secretData } from '../../driver/sync/secret-data.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let tmp: TempRoot;
let chain: string;
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  tmp = await makeTempRoot('secretdata');
  const tls = join(packageRoot(), 'sim', 'apiserver', 'tls');
  chain = (await readFile(join(tls, 'server.crt'), 'utf8')) + (await readFile(join(tls, 'ca.crt'), 'utf8'));
  await mkdir(join(tmp.path, 'dir'));
  await writeFile(join(tmp.path, 'password'), 'pw-123');
  await writeFile(join(tmp.path, 'dir', 'nested'), 'nested-value');
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('secretData', () => {
  it('copies files into keys (Opaque and other types)', async () => {
    expect(await secretData(tmp.path, { secretName: 's', type: 'Opaque', data: [{ objectName: 'password', key: 'pw' }, { objectName: 'dir/nested', key: 'n' }] })).toEqual({ pw: b64('pw-123'), n: b64('nested-value') });
    expect(await secretData(tmp.path, { secretName: 's', type: '', data: [{ objectName: 'password', key: 'x' }] })).toEqual({ x: b64('pw-123') });
  });

  it('says which Secret, key and file when a file is missing or outside the volume', async () => {
    await expect(secretData(tmp.path, { secretName: 's', type: 'Opaque', data: [{ objectName: 'nope', key: 'k' }] })).rejects.toThrow(
      /Secret "s" key "k" from object "nope": the volume has no file "nope"/,
    );
    await expect(secretData(tmp.path, { secretName: 's', type: 'Opaque', data: [{ objectName: '../etc/passwd', key: 'k' }] })).rejects.toThrow(/inside the volume/);
    await expect(secretData(tmp.path, { secretName: 's', type: 'Opaque', data: [{ objectName: 'password', key: '' }] })).rejects.toThrow(/need both objectName and key/);
  });
});

describe('TLS split', () => {
  for (const [label, key] of [
    ['PKCS#1 RSA', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['SEC1 EC', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string],
    ['PKCS#8', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
  ] as const) {
    it(`takes a ${label} key and the chain out of a bundle, in any block order`, async () => {
      const bundle = `${chain}\n${key}`;
      await writeFile(join(tmp.path, 'bundle.pem'), bundle);
      const data = await secretData(tmp.path, { secretName: 't', type: 'kubernetes.io/tls', data: [{ objectName: 'bundle.pem', key: 'tls.key' }, { objectName: 'bundle.pem', key: 'tls.crt' }] });
      expect(Buffer.from(data['tls.key']!, 'base64').toString()).toBe(key.endsWith('\n') ? key : `${key}\n`);
      const crt = Buffer.from(data['tls.crt']!, 'base64').toString();
      expect(crt).toBe(chain);
    });
  }

  it('refuses a bundle without a key or certificate, or with a broken block', () => {
    expect(() => privateKeyPem(chain, 'w')).toThrow(/no private key/);
    expect(() => certificateChainPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'w')).toThrow(/no CERTIFICATE block/);
    expect(() => privateKeyPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'w')).toThrow(/not a valid key/);
    expect(() => certificateChainPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'w')).toThrow(/not a valid certificate/);
  });
});
