/**
 * What an external provider serves for the user's SecretProviderClass, learnt before the
 * scenarios by calling its Mount over its socket exactly as the driver would: attributes =
 * the SPC parameters merged with the pod-info keys, secrets "{}", permission "420", a target
 * directory. The reply (files with their modes, object versions) is what every pod's
 * volume and SecretProviderClassPodStatus must then show. A provider that still writes its
 * files itself (an empty `files` list is legal) is judged by what it wrote.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expectedFiles, type ExpectedFile } from '../../conformance/contract/file-layout.js';
import { kubeletVolumeContext } from '../../conformance/contract/kubelet.js';
import { defaultFilePermission, mountRequest } from '../../conformance/contract/provider-wire.js';
import type { MountResponse__Output } from '../../proto/gen/v1alpha1/MountResponse.js';
import { loadProviderProto } from '../../proto/load.js';
import type { ExternalProviderSpec } from '../../cluster/sim/external-provider.js';
import type { SpcFile } from '../../harness/spc-file.js';

export type { ExpectedFile };

export interface Expectation {
  files: ExpectedFile[];
  /** Sorted by id, as the SecretProviderClassPodStatus records them. */
  objectVersions: Array<{ id: string; version: string }>;
  /** The provider wrote the files itself rather than returning them. */
  writtenByProvider: boolean;
}

function client(socket: string) {
  return new (loadProviderProto().v1alpha1.CSIDriverProvider)(`unix://${socket}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'localhost' });
}

type ProviderClient = ReturnType<typeof client>;

/** Connects, failing at once when the socket refuses (nothing listens) rather than retrying until the deadline. */
async function connect(c: ProviderClient, provider: ExternalProviderSpec, timeoutMs: number): Promise<void> {
  const channel = c.getChannel();
  const deadline = Date.now() + timeoutMs;
  const unreachable = (why: string) => new Error(`cannot reach the external provider ${provider.name} at ${provider.socket}: ${why}; is it running?`);
  let state = channel.getConnectivityState(true);
  while (state !== grpc.connectivityState.READY) {
    if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) throw unreachable('the connection failed');
    const from = state;
    await new Promise<void>((resolve, reject) => channel.watchConnectivityState(from, deadline, (err) => (err ? reject(unreachable(`no connection within ${timeoutMs} ms`)) : resolve())));
    state = channel.getConnectivityState(false);
  }
}

/** Fails with an Error unless the provider's socket accepts a gRPC connection. */
export async function checkReachable(provider: ExternalProviderSpec, timeoutMs = 5000): Promise<void> {
  const c = client(provider.socket);
  try {
    await connect(c, provider, timeoutMs);
  } finally {
    c.close();
  }
}

/** The files under `dir`, as the provider wrote them. */
async function writtenFiles(dir: string): Promise<ExpectedFile[]> {
  const out: ExpectedFile[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out.push({ path: relative(dir, full), mode: (await stat(full)).mode & 0o777, contents: await readFile(full) });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export async function probeProvider(provider: ExternalProviderSpec, spc: SpcFile, timeoutMs = 30_000): Promise<Expectation> {
  const what = `the external provider ${provider.name}`;
  const c = client(provider.socket);
  const target = await mkdtemp(join(tmpdir(), 'sscsi-probe-'));
  try {
    await connect(c, provider, Math.min(timeoutMs, 5000));
    const request = mountRequest({ parameters: spc.parameters, volumeContext: kubeletVolumeContext(spc.name, { name: 'sscsi-probe', namespace: 'sscsi-probe', uid: randomUUID() }), targetPath: target });
    let reply: MountResponse__Output;
    try {
      reply = await new Promise<MountResponse__Output>((resolve, reject) => c.Mount(request, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!))));
    } catch (err) {
      const e = err as grpc.ServiceError;
      throw new Error(`${what} failed the probe Mount for ${spc.file}: ${grpc.status[e.code] ?? e.code}: ${e.details || e.message}`);
    }
    if (reply.error && reply.error.code !== '') throw new Error(`${what} answered the probe Mount for ${spc.file} with error code ${JSON.stringify(reply.error.code)}`);
    if (reply.object_version.length === 0) throw new Error(`${what} answered the probe Mount with no object versions; a provider must report the id and version of every object it mounts`);
    let files: ExpectedFile[];
    try {
      files = expectedFiles(reply.files, defaultFilePermission);
    } catch (err) {
      throw new Error(`${what} answered the probe Mount with an unusable reply: ${(err as Error).message}`);
    }
    const writtenByProvider = files.length === 0;
    if (writtenByProvider) files = await writtenFiles(target);
    const objectVersions = reply.object_version.map((o) => ({ id: o.id, version: o.version })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { files, objectVersions, writtenByProvider };
  } finally {
    c.close();
    await rm(target, { recursive: true, force: true });
  }
}

/** "3 bytes sha256:1a2b3c4d5e6f7a8b": how a file is shown in reports; never its contents (they are secrets). */
export function digest(contents: Buffer | undefined): string {
  if (contents === undefined) return '(missing)';
  return `${contents.length} bytes sha256:${createHash('sha256').update(contents).digest('hex').slice(0, 16)}`;
}
