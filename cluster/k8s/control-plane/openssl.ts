/**
 * The boundary to the `openssl` program: a CA, leaf certificates signed by it and a plain key
 * pair, as files. EC P-256 keys (fast to make; every component accepts them). A missing
 * openssl or a failed command is an error quoting what openssl said.
 */
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface LeafRequest {
  /** File name stem: `<name>.crt`, `<name>.key`. */
  name: string;
  commonName: string;
  organizations?: readonly string[];
  /** serverAuth, clientAuth, or both. */
  usages: ReadonlyArray<'server' | 'client'>;
  dnsNames?: readonly string[];
  ips?: readonly string[];
}

const days = '365';
const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[]): Promise<void> {
  const r = await execa('openssl', args, { reject: false, stdin: 'ignore' });
  if ((r as { code?: string }).code === 'ENOENT') throw new Error('openssl is not installed (no openssl on PATH): install the Debian package openssl');
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.exitCode}): ${String(r.stderr).trim().split('\n').slice(-5).join('\n')}`);
}

function subject(commonName: string, organizations: readonly string[] = []): string {
  const escape = (s: string) => s.replace(/[/=\\]/g, (c) => `\\${c}`);
  return `${organizations.map((o) => `/O=${escape(o)}`).join('')}/CN=${escape(commonName)}`;
}

/** A self-signed CA in `dir` (<name>.crt, <name>.key). */
export async function createCa(dir: string, commonName: string, name = 'ca'): Promise<KeyPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl([
    'req', '-x509', ...curve, '-keyout', pair.key, '-out', pair.cert, '-days', days, '-subj', subject(commonName),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  await chmod(pair.key, 0o600);
  return pair;
}

/** A leaf certificate signed by `ca`, in `dir` (<name>.crt, <name>.key). */
export async function issueLeaf(ca: KeyPair, dir: string, request: LeafRequest): Promise<KeyPair> {
  const pair = { cert: join(dir, `${request.name}.crt`), key: join(dir, `${request.name}.key`) };
  const csr = join(dir, `${request.name}.csr`);
  const ext = join(dir, `${request.name}.ext`);
  const usages = request.usages.map((u) => (u === 'server' ? 'serverAuth' : 'clientAuth')).join(',');
  const sans = [...(request.dnsNames ?? []).map((d) => `DNS:${d}`), ...(request.ips ?? []).map((ip) => `IP:${ip}`)];
  await writeFile(
    ext,
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${usages}`, ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : [])].join('\n') + '\n',
  );
  await openssl(['req', '-new', ...curve, '-keyout', pair.key, '-out', csr, '-subj', subject(request.commonName, request.organizations)]);
  await chmod(pair.key, 0o600);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', days, '-extfile', ext, '-out', pair.cert]);
  return pair;
}

/** A key pair without a certificate (<name>.key private, <name>.pub public), e.g. for signing tokens. */
export async function createKeyPair(dir: string, name: string): Promise<{ key: string; pub: string }> {
  const files = { key: join(dir, `${name}.key`), pub: join(dir, `${name}.pub`) };
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', files.key]);
  await chmod(files.key, 0o600);
  await openssl(['pkey', '-in', files.key, '-pubout', '-out', files.pub]);
  return files;
}
