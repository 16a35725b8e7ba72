/**
 * What NodePublishVolume and NodeUnpublishVolume do, step by step (DESIGN §3), apart from
 * the gRPC plumbing: decide whether there is work, read the SecretProviderClass, make the
 * volume, fetch from the provider, write atomically, record the pod status — and on a
 * failed first mount, leave the target as if nothing had happened.
 */
import { lstat, mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { CsiError, Status, invalidArgument, messageOf } from './csi-error.js';
import { PayloadError } from './fileutil/payload.js';
import { writeProviderFiles } from './fileutil/atomic-writer.js';
import type { SecretsStoreApi } from './k8s/secrets-store-api.js';
import { buildPodStatus, podStatusName, type PodRef, type SecretProviderClass } from './k8s/types.js';
import { DriverMetrics } from './metrics/driver-metrics.js';
import { MountRecords } from './mount-records.js';
import { StaleMountError, type Mounter } from './mount/mounter.js';
import type { ProviderClients } from './provider/provider-client.js';
import { TargetLocks } from './target-locks.js';

/** Volume context keys the kubelet sets (podInfoOnMount, ephemeral, tokenRequests). */
export const volumeContextKeys = {
  secretProviderClass: 'secretProviderClass',
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccountName: 'csi.storage.k8s.io/serviceAccount.name',
  serviceAccountTokens: 'csi.storage.k8s.io/serviceAccount.tokens',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
} as const;

/** The default file mode (0644), sent to providers as the decimal JSON "420". */
export const defaultFilePermission = 0o644;

export interface PublisherOptions {
  nodeId: string;
  rotationEnabled: boolean;
  rotationPollIntervalMs: number;
}

/** Best-effort Kubernetes events on the pod (never throws). */
export type PodEventSink = (pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;

export interface PublisherExtras {
  metrics?: DriverMetrics;
  records?: MountRecords;
  events?: PodEventSink;
  /**
   * Called after every successful mount, rotation or refresh (the Secret sync listens), with
   * the SecretProviderClass the publish just read so the sync need not read it again.
   */
  onVolumeUpdated?: (namespace: string, podStatusName: string, spc: SecretProviderClass) => void;
}

export type PublishOutcome = 'mounted' | 'remounted' | 'already-mounted';

/** Why a publish runs: the kubelet's call, the driver's rotation poller, or a refresh the user asked for. */
export type PublishMode = 'kubelet' | 'poll' | 'refresh';

/** Milliseconds spent in each step of a publish that did work (for logs and profiling). */
export interface PublishTimings {
  spcMs: number;
  mountMs: number;
  providerMs: number;
  writeMs: number;
  statusMs: number;
}

export interface PublishResult {
  outcome: PublishOutcome;
  provider?: string;
  objects?: number;
  changedFiles?: number;
  /** For a remount: whether any file changed. */
  rotated?: boolean;
  timings?: PublishTimings;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;
const rfc3339 = () => new Date().toISOString();

interface PublishTarget {
  targetPath: string;
  spcName: string;
  pod: PodRef;
}

function publishTarget(req: NodePublishVolumeRequest__Output): PublishTarget {
  const ctx = req.volume_context;
  const spcName = ctx[volumeContextKeys.secretProviderClass] ?? '';
  if (spcName === '') {
    throw invalidArgument('secretProviderClass is not set in the volume attributes: add volumeAttributes.secretProviderClass to the pod\'s csi volume');
  }
  const pod = {
    name: ctx[volumeContextKeys.podName] ?? '',
    namespace: ctx[volumeContextKeys.podNamespace] ?? '',
    uid: ctx[volumeContextKeys.podUid] ?? '',
  };
  for (const [key, value] of [[volumeContextKeys.podName, pod.name], [volumeContextKeys.podNamespace, pod.namespace], [volumeContextKeys.podUid, pod.uid]] as const) {
    if (value === '') {
      throw invalidArgument(`${key} missing in the volume context: the CSIDriver object must set podInfoOnMount: true`);
    }
  }
  return { targetPath: req.target_path, spcName, pod };
}

/**
 * The provider's `attributes`: the SPC parameters, then every volume context key (so pod
 * identity cannot be spoofed through parameters), and the service-account tokens taken
 * from the request's secrets first (Kubernetes 1.35 serviceAccountTokenInSecrets), then the
 * volume context. The provider's `secrets` are the nodePublishSecretRef data alone.
 */
/** Whether the atomic writer ever completed in `targetPath` (its `..data` link exists). */
async function hasPayload(targetPath: string): Promise<boolean> {
  try {
    await lstat(join(targetPath, '..data'));
    return true;
  } catch {
    return false;
  }
}

/** The pod's fsGroup as the kubelet passes it (CSI volume_mount_group), if any. */
export function volumeMountGroup(req: NodePublishVolumeRequest__Output): number | undefined {
  const group = req.volume_capability?.mount?.volume_mount_group ?? '';
  if (group === '') return undefined;
  if (!/^\d{1,10}$/.test(group) || Number(group) > 0xffffffff) {
    throw invalidArgument(`volume_mount_group ${JSON.stringify(group)} is not a numeric group id; the kubelet passes the pod's fsGroup`);
  }
  return Number(group);
}

/** The SPC's provider and parameters, or the FAILED_PRECONDITION saying which is missing. */
function providerOf(spc: SecretProviderClass, namespace: string, name: string): { provider: string; parameters: Record<string, string> } {
  const provider = spc.spec.provider ?? '';
  if (provider === '') {
    throw new CsiError(Status.FAILED_PRECONDITION, `SecretProviderClass ${namespace}/${name} has no spec.provider: set it to the provider's name`, 'FailedToMount');
  }
  const parameters = spc.spec.parameters;
  if (!parameters || Object.keys(parameters).length === 0) {
    throw Object.assign(
      new CsiError(Status.FAILED_PRECONDITION, `SecretProviderClass ${namespace}/${name} has no spec.parameters: the provider needs them to know what to mount`, 'FailedToMount'),
      { provider },
    );
  }
  return { provider, parameters };
}

export function providerAttributes(
  parameters: Record<string, string>,
  volumeContext: Record<string, string>,
  requestSecrets: Record<string, string>,
): { attributes: Record<string, string>; secrets: Record<string, string> } {
  const attributes: Record<string, string> = { ...parameters, ...volumeContext };
  const secrets = { ...requestSecrets };
  const tokensKey = volumeContextKeys.serviceAccountTokens;
  const tokens = secrets[tokensKey] ?? volumeContext[tokensKey];
  delete secrets[tokensKey];
  if (tokens !== undefined) attributes[tokensKey] = tokens;
  return { attributes, secrets };
}

export class VolumePublisher {
  private readonly locks = new TargetLocks();
  readonly metrics: DriverMetrics;
  readonly records: MountRecords;
  private readonly events: PodEventSink;
  private readonly onVolumeUpdated: (namespace: string, podStatusName: string, spc: SecretProviderClass) => void;

  constructor(
    private readonly mounter: Mounter,
    private readonly providers: ProviderClients,
    private readonly api: SecretsStoreApi,
    private readonly options: PublisherOptions,
    private readonly logger: Logger,
    extras: PublisherExtras = {},
  ) {
    this.metrics = extras.metrics ?? new DriverMetrics();
    this.records = extras.records ?? new MountRecords();
    this.events = extras.events ?? (async () => undefined);
    this.onVolumeUpdated = extras.onVolumeUpdated ?? (() => undefined);
  }

  /**
   * A volume mounted before this driver process started (a restart): learn it from its pod
   * status so that /mounts, the poller and refresh know it. Best effort.
   */
  private async adopt(req: NodePublishVolumeRequest__Output, target: PublishTarget): Promise<boolean> {
    const { targetPath, spcName, pod } = target;
    try {
      const spc = await this.api.getSecretProviderClass(pod.namespace, spcName);
      const status = await this.api.getPodStatus(pod.namespace, podStatusName(pod.name, pod.namespace, spcName));
      // No pod status: the publish that wrote these files died before recording it.
      if (!status) return false;
      const updated = (await stat(targetPath)).mtime.toISOString();
      this.records.upsert(
        {
          pod: pod.name,
          namespace: pod.namespace,
          podUid: pod.uid,
          serviceAccount: req.volume_context[volumeContextKeys.serviceAccountName] ?? '',
          secretProviderClass: spcName,
          provider: spc.spec.provider ?? '',
          targetPath,
          objects: status?.status?.objects ?? [],
          syncedSecrets: [],
          mountedAt: updated,
          lastUpdate: updated,
        },
        req,
      );
      return true;
    } catch (err) {
      this.logger.debug({ targetPath, err: messageOf(err) }, 'could not adopt an existing mount');
      return true;
    }
  }

  /** NodePublishVolume after request validation. `deadline` is epoch ms. */
  publish(req: NodePublishVolumeRequest__Output, deadline: number, mode: PublishMode = 'kubelet'): Promise<PublishResult> {
    const target = publishTarget(req);
    return this.locks.run(target.targetPath, () => this.publishLocked(req, target, deadline, mode));
  }

  /**
   * Fetches a mounted volume's content again by replaying its last NodePublishVolume
   * request: the rotation poller's call (`poll`: only when due and not backing off) or an
   * on-demand refresh (`refresh`: at once). Undefined when the volume is not known.
   */
  async refetch(targetPath: string, mode: 'poll' | 'refresh', timeoutMs = 60_000): Promise<PublishResult | undefined> {
    const req = this.records.request(targetPath);
    if (!req) return undefined;
    return this.publish(req, Date.now() + timeoutMs, mode);
  }

  /** The rotation backoff: from the poll interval, doubling, at most 10 intervals (and 10 min). */
  private get backoff() {
    const base = Math.max(1000, this.options.rotationPollIntervalMs);
    return { baseMs: base, maxMs: Math.max(base, Math.min(10 * base, 600_000)) };
  }

  private async isMounted(targetPath: string): Promise<boolean> {
    try {
      return await this.mounter.isMounted(targetPath);
    } catch (err) {
      if (!(err instanceof StaleMountError)) {
        throw new CsiError(Status.INTERNAL, `failed to check mount point ${targetPath}: ${messageOf(err)}`, 'FailedToEnsureMountPoint', { cause: err });
      }
      this.logger.warn({ targetPath, err: err.message }, 'unmounting stale mount point');
      await this.mounter.unmount(targetPath);
      return false;
    }
  }

  private async publishLocked(req: NodePublishVolumeRequest__Output, target: PublishTarget, deadline: number, mode: PublishMode): Promise<PublishResult> {
    const { targetPath, spcName, pod } = target;
    let mounted = await this.isMounted(targetPath);
    if (mounted && !(await hasPayload(targetPath))) {
      // A mount without `..data`: a publish died between mounting and writing (a driver
      // killed mid-publish). Reporting it as mounted would start the pod with an empty
      // volume (upstream issue #1051); start over instead.
      this.logger.warn({ targetPath, pod: pod.name, namespace: pod.namespace }, 'found an incomplete volume (mounted, no ..data); mounting it again');
      await this.removeTarget(targetPath);
      mounted = false;
    }
    let force = mode === 'refresh';
    if (mounted && mode === 'kubelet' && !this.records.get(targetPath)) {
      // Mounted before this driver process started (a restart).
      const age = Date.now() - (await stat(targetPath)).mtimeMs;
      if (await this.adopt(req, target)) {
        if (!this.options.rotationEnabled || age < this.options.rotationPollIntervalMs) return { outcome: 'already-mounted' };
      } else {
        force = true; // files written but never recorded: fetch and record them now
      }
    }
    if (mounted && !force) {
      if (mode === 'kubelet' && !this.options.rotationEnabled) return { outcome: 'already-mounted' };
      // With rotation, a republish is a rotation once the content is older than the interval
      // and the volume is not backing off after a failed rotation.
      if (this.records.get(targetPath) && !this.records.due(targetPath, this.options.rotationPollIntervalMs)) return { outcome: 'already-mounted' };
    }
    const started = performance.now();
    let provider = '';
    try {
      const { spc, ...result } = await this.mountAndWrite(req, target, deadline, mounted);
      provider = result.provider!;
      const seconds = (performance.now() - started) / 1000;
      if (mounted) this.metrics.rotation(provider, { rotated: result.rotated === true }, seconds);
      else this.metrics.publishSucceeded(provider, seconds);
      this.onVolumeUpdated(target.pod.namespace, podStatusName(target.pod.name, target.pod.namespace, target.spcName), spc);
      return result;
    } catch (err) {
      provider ||= (err as { provider?: string }).provider ?? '';
      const reason = err instanceof CsiError ? err.reason : 'FailedToMount';
      if (!mounted) {
        this.metrics.publishFailed(provider, reason);
      } else {
        this.metrics.rotation(provider, { rotated: false, errorType: reason }, (performance.now() - started) / 1000);
        this.records.rotated(targetPath, { time: rfc3339(), result: 'failed', error: messageOf(err) }, this.backoff);
        void this.events(pod, 'Warning', 'SecretRotationFailed', `failed to rotate the secrets of SecretProviderClass ${pod.namespace}/${spcName} at ${targetPath}: ${messageOf(err)}; the old content stays`);
      }
      throw err;
    }
  }

  private async mountAndWrite(req: NodePublishVolumeRequest__Output, target: PublishTarget, deadline: number, mounted: boolean): Promise<PublishResult & { spc: SecretProviderClass }> {
    const { targetPath, spcName, pod } = target;
    const timings: PublishTimings = { spcMs: 0, mountMs: 0, providerMs: 0, writeMs: 0, statusMs: 0 };
    let mark = performance.now();
    const lap = (step: keyof PublishTimings) => {
      const now = performance.now();
      timings[step] = round2(now - mark);
      mark = now;
    };
    const gid = volumeMountGroup(req);
    // A first mount reads the SecretProviderClass while it mounts the tmpfs: the read is a
    // network round trip, the mount a local syscall, and neither needs the other. Whatever
    // fails, the cleanup below leaves the target as the kubelet gave it.
    const spcRead = this.api.getSecretProviderClass(pod.namespace, spcName);
    spcRead.catch(() => undefined); // handled below, once the mount is done
    if (!mounted) {
      try {
        await mkdir(targetPath, { recursive: true, mode: 0o750 });
        await this.mounter.mount(targetPath, { gid });
        lap('mountMs');
      } catch (err) {
        await this.cleanup(targetPath);
        throw new CsiError(Status.INTERNAL, `failed to mount ${this.mounter.kind} at ${targetPath}: ${messageOf(err)}`, 'FailedToMount', { cause: err });
      }
    }
    let spc: SecretProviderClass;
    let provider: string;
    let parameters: Record<string, string>;
    try {
      spc = await spcRead;
      lap('spcMs');
      ({ provider, parameters } = providerOf(spc, pod.namespace, spcName));
    } catch (err) {
      if (!mounted) await this.cleanup(targetPath);
      throw err;
    }

    try {
      const { attributes, secrets } = providerAttributes(parameters, req.volume_context, req.secrets);
      // On a remount, tell the provider what we hold so it can skip unchanged objects
      // (upstream sends none).
      const existingStatus = mounted ? await this.api.getPodStatus(pod.namespace, podStatusName(pod.name, pod.namespace, spcName)) : null;
      const current = existingStatus?.status?.objects ?? [];
      const providerStarted = performance.now();
      const result = await this.providers.mount(provider, {
        attributes: JSON.stringify(attributes),
        secrets: JSON.stringify(secrets),
        targetPath,
        permission: JSON.stringify(defaultFilePermission),
        currentObjectVersion: current.map((o) => ({ id: o.id, version: o.version })),
        deadline,
      });
      this.metrics.providerMount(provider, (performance.now() - providerStarted) / 1000);
      lap('providerMs');
      let written;
      try {
        written = writeProviderFiles(targetPath, result.files, defaultFilePermission, { gid });
      } catch (err) {
        if (err instanceof PayloadError) {
          throw new CsiError(Status.UNKNOWN, `provider ${JSON.stringify(provider)} returned an unusable reply: ${err.message}`, 'FileWriteError', { cause: err });
        }
        throw new CsiError(Status.INTERNAL, `failed to write files to ${targetPath}: ${messageOf(err)}`, 'FileWriteError', { cause: err });
      }
      lap('writeMs');
      const status = buildPodStatus({ pod, spcName, nodeId: this.options.nodeId, targetPath, objects: result.objectVersions });
      await this.api.upsertPodStatus(status, existingStatus);
      lap('statusMs');
      const now = rfc3339();
      if (mounted && this.records.get(targetPath)) {
        this.records.rotated(targetPath, { time: now, result: written.changed ? 'rotated' : 'unchanged' }, this.backoff, status.status.objects);
      } else {
        this.records.upsert(
          {
            pod: pod.name,
            namespace: pod.namespace,
            podUid: pod.uid,
            serviceAccount: req.volume_context[volumeContextKeys.serviceAccountName] ?? '',
            secretProviderClass: spcName,
            provider,
            targetPath,
            objects: status.status.objects,
            syncedSecrets: [],
            mountedAt: now,
            lastUpdate: now,
          },
          req,
        );
      }
      return {
        outcome: mounted ? 'remounted' : 'mounted',
        provider,
        objects: result.objectVersions.length,
        changedFiles: written.changedPaths.length,
        ...(mounted ? { rotated: written.changed } : {}),
        timings,
        spc,
      };
    } catch (err) {
      // A failed first mount leaves nothing behind, so the kubelet's retry starts fresh; a
      // failed remount keeps the content the pod already has.
      if (!mounted) await this.cleanup(targetPath);
      throw Object.assign(err as object, { provider });
    }
  }

  /** Unmounts and removes `targetPath`; logs rather than masks the original failure. */
  private async cleanup(targetPath: string): Promise<void> {
    try {
      await this.removeTarget(targetPath);
    } catch (err) {
      this.logger.error({ targetPath, err: messageOf(err) }, 'failed to clean up the target after a failed mount');
    }
  }

  private async removeTarget(targetPath: string): Promise<void> {
    await this.mounter.unmount(targetPath);
    // Once the tmpfs is gone the target is an empty directory: one rmdir. A plain-directory
    // volume (dir mode) still holds its files and needs the recursive removal.
    try {
      await rmdir(targetPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
      await rm(targetPath, { recursive: true, force: true });
    }
  }

  /** NodeUnpublishVolume after request validation: unmount, remove; a missing target is done. */
  unpublish(targetPath: string): Promise<void> {
    return this.locks.run(targetPath, async () => {
      try {
        await this.removeTarget(targetPath);
        this.records.delete(targetPath);
        this.metrics.unpublished(true);
      } catch (err) {
        this.metrics.unpublished(false);
        throw new CsiError(Status.INTERNAL, `failed to unmount ${targetPath}: ${messageOf(err)}`, 'FailedToUnmount', { cause: err });
      }
    });
  }
}
