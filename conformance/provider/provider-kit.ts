/**
 * What the provider checks share: the requests the driver would send for the SPC (pod
 * info in the attributes, secrets as JSON, the permission as a decimal string), the probe,
 * and the baseline Mount — made once, on first need, and compared against by later checks.
 */
import { createHash } from 'node:crypto';
import { kubeletVolumeContext } from '../contract/kubelet.js';
import { defaultFilePermission, mountRequest } from '../contract/provider-wire.js';
import type { MountRequest } from '../../proto/gen/v1alpha1/MountRequest.js';
import type { MountResponse__Output } from '../../proto/gen/v1alpha1/MountResponse.js';
import type { VersionResponse__Output } from '../../proto/gen/v1alpha1/VersionResponse.js';
import { fail } from '../check.js';
import type { SpcFile } from '../../harness/spc-file.js';
import { describeOutcome, type CallOutcome, type ProviderProbe } from './provider-probe.js';

export interface ProviderKitOptions {
  probe: ProviderProbe;
  spc: SpcFile;
  /** An SPC naming an object the provider does not have. */
  unknownSpc?: SpcFile | undefined;
  /** A reply must arrive within this (the stated deadline). */
  deadlineMs: number;
  /** Concurrent Mount calls in the load check. */
  concurrency: number;
  /** The driver's receive limit the reply must fit in (upstream default 4 MiB). */
  maxRecvBytes: number;
  /** nodePublishSecretRef data to send in the secrets-shape check. */
  secrets: Record<string, string>;
  /** Sent as target_path; a directory of the kit's own (old providers write there). */
  targetPath: string;
}

/** The pod the kit's requests speak for (its namespace is the SPC's). */
export const kitPod = { name: 'conformance-0', uid: '6f1c2d3e-0000-4000-8000-c0c0c0c0c0c0' } as const;

/** The default permission the driver sends (0644) and the second one the permission check tries. */
export const permissions = { first: defaultFilePermission, second: 0o600 } as const;

export class ProviderKit {
  private baselineCall: Promise<CallOutcome<MountResponse__Output>> | undefined;
  private versionCall: Promise<CallOutcome<VersionResponse__Output>> | undefined;

  constructor(readonly options: ProviderKitOptions) {}

  get probe(): ProviderProbe {
    return this.options.probe;
  }

  /**
   * The Mount request the driver sends for the SPC, for pod `conformance-0` in its
   * namespace; `attributes` adds volume context (tokens), `secrets` replaces the secrets
   * JSON as sent (e.g. upstream's "null").
   */
  request(overrides: { spc?: SpcFile; attributes?: Record<string, string>; secrets?: string; permission?: number; current?: Array<{ id: string; version: string }> } = {}): MountRequest {
    const spc = overrides.spc ?? this.options.spc;
    const pod = { ...kitPod, namespace: spc.namespace };
    const req = mountRequest({
      parameters: spc.parameters,
      volumeContext: { ...kubeletVolumeContext(spc.name, pod), ...overrides.attributes },
      targetPath: this.options.targetPath,
      ...(overrides.permission !== undefined ? { permission: overrides.permission } : {}),
      ...(overrides.current ? { current: overrides.current } : {}),
    });
    return overrides.secrets === undefined ? req : { ...req, secrets: overrides.secrets };
  }

  version(): Promise<CallOutcome<VersionResponse__Output>> {
    this.versionCall ??= this.probe.version();
    return this.versionCall;
  }

  /** The first Mount with the SPC's parameters, as the driver sends it on a first mount. */
  baseline(): Promise<CallOutcome<MountResponse__Output>> {
    this.baselineCall ??= this.probe.mount(this.request());
    return this.baselineCall;
  }

  /** The baseline reply when it is a success; otherwise the check fails saying so. */
  async okBaseline(): Promise<MountResponse__Output> {
    const b = await this.baseline();
    if (!b.reply || b.reply.error?.code) fail(`not evaluated: the baseline Mount with the SPC's parameters did not succeed (${describeOutcome(b)})`, 'a successful baseline Mount', describeOutcome(b));
    return b.reply;
  }

  /** A success reply of another call, or the check fails naming the variant. */
  static success(o: CallOutcome<MountResponse__Output>, what: string): MountResponse__Output {
    if (!o.reply || o.reply.error?.code) fail(`${what} was refused: ${describeOutcome(o)}`, 'a successful Mount', describeOutcome(o));
    return o.reply;
  }
}

/** A reply reduced to what must agree between calls: files (path, mode, digest) and versions. */
export function canonical(r: MountResponse__Output): { files: string[]; versions: string[] } {
  return {
    files: r.files.map((f) => `${f.path} mode=${f.mode.toString(8)} sha256=${createHash('sha256').update(f.contents).digest('hex').slice(0, 16)}`).sort(),
    versions: r.object_version.map((v) => `${v.id}=${v.version}`).sort(),
  };
}

/** Where two replies differ, as short lines; empty when they agree. */
export function differences(a: MountResponse__Output, b: MountResponse__Output): string[] {
  const ca = canonical(a);
  const cb = canonical(b);
  const diff = (x: string[], y: string[], label: string) => [...x.filter((e) => !y.includes(e)).map((e) => `${label} only in the first: ${e}`), ...y.filter((e) => !x.includes(e)).map((e) => `${label} only in the second: ${e}`)];
  return [...diff(ca.versions, cb.versions, 'version'), ...diff(ca.files, cb.files, 'file')];
}
