/**
 * What NodePublishVolume and NodeUnpublishVolume do (DESIGN §3), apart from the gRPC
 * plumbing. A publish is decided, then done:
 *
 * 1. validate the request's names (`publishTarget`, pure);
 * 2. observe the target: no symbolic link in it, whose mount it is, whether it has content;
 * 3. decide (`planPublish`, pure): skip, first mount, remount, or adopt after a restart;
 * 4. act in small steps — read the SecretProviderClass, make the volume, fetch from the
 *    provider, validate and write atomically, record the pod status — on one
 *    `PublishAttempt` that carries the provider and the phase;
 * 5. settle the outcome in one place (`settleSuccess` / `settleFailure`): metrics, the mount
 *    record, the rotation schedule (interval and backoff), events.
 *
 * A failed first mount leaves the target as if nothing had happened; a failed remount keeps
 * the content the pod has.
 */
import { mkdir, stat } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { CsiError, Status, fromKubeApi, messageOf } from './csi-error.js';
import { isNotFound } from './k8s/api-error.js';
import { buildPayload, PayloadError, validatePathsUnder } from './fileutil/payload.js';
import { writeAtomically, type WriteResult } from './fileutil/atomic-writer.js';
import { hasDataLink } from './fileutil/target-layout.js';
import type { SecretsStoreApi } from './k8s/secrets-store-api.js';
import { buildPodStatus, podStatusName, type PodRef, type SecretProviderClass } from './k8s/types.js';
import { DriverMetrics } from './metrics/driver-metrics.js';
import { MountRecords, type MountRecord } from './mount-records.js';
import { systemClock } from './clock.js';
import { RotationSchedule } from './rotation/rotation-schedule.js';
import { StaleMountError, type Mounter } from './mount/mounter.js';
import { describeForeign } from './mount/ownership.js';
import { findSymlink } from './mount/target-path.js';
import { inlineProbe, threadPoolProbe } from './mount/path-probe.js';
import type { MountResult, ProviderClients } from './provider/provider-client.js';
import { planPublish, type PublishMode, type VolumeState } from './publish-plan.js';
import { removeVolume } from './target-cleanup.js';
import { TargetLocks } from './target-locks.js';
import { PublishAttempt, type PublishTimings } from './publish-attempt.js';
import { defaultFilePermission, providerAttributes, providerOf, publishTarget, volumeContextKeys, type PublishTarget } from './publish-request.js';

export type { PublishMode } from './publish-plan.js';
export type { PublishTimings } from './publish-attempt.js';
export { defaultFilePermission, providerAttributes, publishTarget, volumeContextKeys, volumeMountGroup, type PublishTarget } from './publish-request.js';

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
  /** When each volume is next due for rotation; by default one on the system clock. */
  schedule?: RotationSchedule;
  events?: PodEventSink;
  /**
   * Called after every successful mount, rotation or refresh (the Secret sync listens), with
   * the SecretProviderClass the publish just read so the sync need not read it again.
   */
  onVolumeUpdated?: (namespace: string, podStatusName: string, spc: SecretProviderClass) => void;
}

export type PublishOutcome = 'mounted' | 'remounted' | 'already-mounted';

export interface PublishResult {
  outcome: PublishOutcome;
  provider?: string;
  objects?: number;
  changedFiles?: number;
  /** For a remount: whether any file changed. */
  rotated?: boolean;
  timings?: PublishTimings;
}

const rfc3339 = () => new Date().toISOString();




/** What a successful attempt produced. */
interface Fetched {
  spc: SecretProviderClass;
  result: MountResult;
  written: WriteResult;
  objects: MountRecord['objects'];
}

export class VolumePublisher {
  private readonly locks = new TargetLocks();
  readonly metrics: DriverMetrics;
  readonly records: MountRecords;
  readonly schedule: RotationSchedule;
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
    this.schedule = extras.schedule ?? new RotationSchedule(systemClock, options.rotationPollIntervalMs);
    this.events = extras.events ?? (async () => undefined);
    this.onVolumeUpdated = extras.onVolumeUpdated ?? (() => undefined);
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

  private async publishLocked(req: NodePublishVolumeRequest__Output, target: PublishTarget, deadline: number, mode: PublishMode): Promise<PublishResult> {
    const { targetPath } = target;
    const recorded = this.records.get(targetPath) !== undefined;
    const volume = await this.observe(targetPath, recorded);
    const adopting = volume === 'mounted' && !recorded && mode === 'kubelet';
    const plan = planPublish({
      mode,
      volume,
      recorded,
      rotationEnabled: this.options.rotationEnabled,
      due: recorded && this.schedule.due(targetPath),
      rotationPollIntervalMs: this.options.rotationPollIntervalMs,
      ...(adopting ? { contentAgeMs: Date.now() - (await stat(targetPath)).mtimeMs } : {}),
    });
    switch (plan.action) {
      case 'skip':
        return { outcome: 'already-mounted' };
      case 'adopt-after-restart':
        if ((await this.adopt(req, target)) && plan.ifAdopted === 'skip') return { outcome: 'already-mounted' };
        return this.attempt(new PublishAttempt('remount', req, target, deadline));
      case 'remount':
        return this.attempt(new PublishAttempt('remount', req, target, deadline));
      case 'first-mount':
        if (plan.reset) {
          // A mount without `..data`: a publish died between mounting and writing (a driver
          // killed mid-publish). Reporting it as mounted would start the pod with an empty
          // volume (upstream issue #1051); start over instead.
          this.logger.warn({ targetPath, pod: target.pod.name, namespace: target.pod.namespace }, 'found an incomplete volume (mounted, no ..data); mounting it again');
          await removeVolume(this.mounter, targetPath, recorded);
        }
        return this.attempt(new PublishAttempt('first-mount', req, target, deadline));
    }
  }

  /**
   * What is at the target. Refuses (FAILED_PRECONDITION) a path with a symbolic link in a
   * component the driver creates or mounts on, and a mount there that is not the driver's.
   */
  private async observe(targetPath: string, recorded: boolean): Promise<VolumeState> {
    // A volume this process mounted is its own tmpfs: looked at inline (path-probe.ts).
    const probe = recorded ? inlineProbe : threadPoolProbe;
    const link = await findSymlink(targetPath, probe);
    if (link) {
      throw new CsiError(
        Status.FAILED_PRECONDITION,
        `target path ${targetPath} goes through the symbolic link ${link.path} -> ${link.to}: refusing to create or mount a volume through a link; the kubelet's pod directories hold none`,
        'FailedToEnsureMountPoint',
      );
    }
    let mounted: boolean;
    try {
      mounted = await this.mounter.isMounted(targetPath, probe);
    } catch (err) {
      if (!(err instanceof StaleMountError)) {
        throw new CsiError(Status.INTERNAL, `failed to check mount point ${targetPath}: ${messageOf(err)}`, 'FailedToEnsureMountPoint', { cause: err });
      }
      mounted = true; // unreadable: whose it is decides below
      if ((await this.mounter.ownership(targetPath, recorded)).kind === 'ours') {
        this.logger.warn({ targetPath, err: err.message }, 'unmounting stale mount point');
        await this.mounter.unmount(targetPath);
        return 'absent';
      }
    }
    if (this.mounter.kind === 'dir') return mounted ? 'mounted' : 'absent';
    if (!mounted) return 'absent';
    if (!recorded) {
      const owner = await this.mounter.ownership(targetPath, false);
      if (owner.kind !== 'ours') {
        throw new CsiError(
          Status.FAILED_PRECONDITION,
          `target path ${targetPath} is ${owner.kind === 'foreign' ? describeForeign(owner) : 'a mount point'} that this driver did not make: refusing to publish a volume onto it`,
          'FailedToEnsureMountPoint',
        );
      }
    }
    return (await hasDataLink(targetPath, probe)) ? 'mounted' : 'incomplete';
  }

  /**
   * A volume mounted before this driver process started (a restart): learn it from its pod
   * status so that /mounts, the poller, refresh and the Secret sync know it. True when
   * adopted; false when there is no pod status (the publish that wrote these files died
   * before recording it). An API failure is thrown, not taken for either: the volume is
   * left as it is and the kubelet's retry adopts it.
   */
  private async adopt(req: NodePublishVolumeRequest__Output, target: PublishTarget): Promise<boolean> {
    const { targetPath, spcName, pod } = target;
    const status = await this.api.getPodStatus(pod.namespace, podStatusName(pod.name, pod.namespace, spcName)).catch((err: unknown) => {
      throw fromKubeApi(err, 'PodStatusError');
    });
    if (!status) return false;
    let provider = '';
    try {
      provider = (await this.api.getSecretProviderClass(pod.namespace, spcName)).spec.provider ?? '';
    } catch (err) {
      // A SecretProviderClass deleted since the mount: the volume is still this pod's.
      if (!isNotFound(err)) throw fromKubeApi(err, 'SecretProviderClassNotFound');
    }
    const updated = (await stat(targetPath)).mtime.toISOString();
    this.records.upsert(this.record(req, target, provider, status.status?.objects ?? [], updated), req);
    this.schedule.fetched(targetPath);
    return true;
  }

  private record(req: NodePublishVolumeRequest__Output, target: PublishTarget, provider: string, objects: MountRecord['objects'], time: string): MountRecord {
    const { targetPath, spcName, pod } = target;
    return {
      pod: pod.name,
      namespace: pod.namespace,
      podUid: pod.uid,
      serviceAccount: req.volume_context[volumeContextKeys.serviceAccountName] ?? '',
      secretProviderClass: spcName,
      provider,
      targetPath,
      objects,
      syncedSecrets: [],
      mountedAt: time,
      lastUpdate: time,
    };
  }

  /** Runs a first mount or remount and settles its outcome; a failed first mount is cleaned up. */
  private async attempt(a: PublishAttempt): Promise<PublishResult> {
    let fetched: Fetched;
    try {
      fetched = await this.fetch(a);
    } catch (err) {
      if (!a.remount) await this.cleanup(a.target.targetPath);
      this.settleFailure(a, err);
      throw err;
    }
    return this.settleSuccess(a, fetched);
  }

  /** The steps of a publish, each failing with the error that names its cause. */
  private async fetch(a: PublishAttempt): Promise<Fetched> {
    const { targetPath, spcName, pod, gid } = a.target;
    // A first mount reads the SecretProviderClass while it mounts the tmpfs: the read is a
    // network round trip, the mount a local syscall, and neither needs the other. A remount
    // reads the pod status beside it (to tell the provider what we hold, upstream sends
    // none): two round trips at once instead of one after the other.
    const spcRead = this.api.getSecretProviderClass(pod.namespace, spcName);
    spcRead.catch(() => undefined); // handled below, once the mount is done
    const statusRead = a.remount ? this.api.getPodStatus(pod.namespace, podStatusName(pod.name, pod.namespace, spcName)) : Promise.resolve(null);
    statusRead.catch(() => undefined); // handled below, after the SecretProviderClass's answer
    if (!a.remount) {
      a.phase = 'mount';
      await this.makeVolume(targetPath, gid);
      a.lap('mountMs');
    }
    a.phase = 'spc';
    const spc = await spcRead.catch((err: unknown) => {
      throw fromKubeApi(err, 'SecretProviderClassNotFound');
    });
    a.provider = spc.spec.provider ?? '';
    const { provider, parameters } = providerOf(spc, pod.namespace, spcName);
    a.lap('spcMs');

    a.phase = 'provider';
    const existingStatus = await statusRead.catch((err: unknown) => {
      throw fromKubeApi(err, 'PodStatusError');
    });
    const { attributes, secrets } = providerAttributes(parameters, a.req.volume_context, a.req.secrets);
    const providerStarted = performance.now();
    const result = await this.providers.mount(provider, {
      attributes: JSON.stringify(attributes),
      secrets: JSON.stringify(secrets),
      targetPath,
      permission: JSON.stringify(defaultFilePermission),
      currentObjectVersion: (existingStatus?.status?.objects ?? []).map((o) => ({ id: o.id, version: o.version })),
      deadline: a.deadline,
    });
    this.metrics.providerMount(provider, (performance.now() - providerStarted) / 1000);
    a.lap('providerMs');

    a.phase = 'write';
    const written = this.write(provider, targetPath, result, gid);
    a.lap('writeMs');

    a.phase = 'status';
    const status = buildPodStatus({ pod, spcName, nodeId: this.options.nodeId, targetPath, objects: result.objectVersions });
    await this.api.upsertPodStatus(status, existingStatus).catch((err: unknown) => {
      throw fromKubeApi(err, 'PodStatusError');
    });
    a.lap('statusMs');
    return { spc, result, written, objects: status.status.objects };
  }

  /** Creates the target directory (0750) and mounts the volume on it. */
  private async makeVolume(targetPath: string, gid: number | undefined): Promise<void> {
    try {
      await mkdir(targetPath, { recursive: true, mode: 0o750 });
      await this.mounter.mount(targetPath, { gid });
    } catch (err) {
      throw new CsiError(Status.INTERNAL, `failed to mount ${this.mounter.kind} at ${targetPath}: ${messageOf(err)}`, 'FailedToMount', { cause: err });
    }
  }

  /** Validates the provider's files (every path rule first), then writes them atomically. */
  private write(provider: string, targetPath: string, result: MountResult, gid: number | undefined): WriteResult {
    let payload;
    try {
      payload = buildPayload(result.files, defaultFilePermission);
      validatePathsUnder(targetPath, payload);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      throw new CsiError(Status.UNKNOWN, `provider ${JSON.stringify(provider)} returned an unusable reply: ${err.message}`, 'FileWriteError', { cause: err });
    }
    try {
      return writeAtomically(targetPath, payload, { gid });
    } catch (err) {
      throw new CsiError(Status.INTERNAL, `failed to write files to ${targetPath}: ${messageOf(err)}`, 'FileWriteError', { cause: err });
    }
  }

  /** The one place a successful attempt is accounted for: metrics, the record, the sync. */
  private settleSuccess(a: PublishAttempt, f: Fetched): PublishResult {
    const { targetPath, pod, spcName } = a.target;
    const now = rfc3339();
    if (a.remount) this.metrics.rotation(a.provider, { rotated: f.written.changed }, a.seconds());
    else this.metrics.publishSucceeded(a.provider, a.seconds());
    if (a.remount && this.records.get(targetPath)) {
      this.records.rotated(targetPath, { time: now, result: f.written.changed ? 'rotated' : 'unchanged' }, f.objects);
    } else {
      this.records.upsert(this.record(a.req, a.target, a.provider, f.objects, now), a.req);
    }
    this.schedule.fetched(targetPath);
    this.onVolumeUpdated(pod.namespace, podStatusName(pod.name, pod.namespace, spcName), f.spc);
    return {
      outcome: a.remount ? 'remounted' : 'mounted',
      provider: a.provider,
      objects: f.result.objectVersions.length,
      changedFiles: f.written.changedPaths.length,
      ...(a.remount ? { rotated: f.written.changed } : {}),
      timings: a.timings,
    };
  }

  /** The one place a failed attempt is accounted for: metrics, backoff, the pod's event. */
  private settleFailure(a: PublishAttempt, err: unknown): void {
    const { targetPath, pod, spcName } = a.target;
    const reason = err instanceof CsiError ? err.reason : 'FailedToMount';
    this.logger.debug({ targetPath, phase: a.phase, provider: a.provider, err: messageOf(err) }, `${a.kind} failed`);
    if (!a.remount) {
      this.metrics.publishFailed(a.provider, reason);
      return;
    }
    this.metrics.rotation(a.provider, { rotated: false, errorType: reason }, a.seconds());
    this.records.rotated(targetPath, { time: rfc3339(), result: 'failed', error: messageOf(err) });
    this.schedule.failed(targetPath);
    void this.events(pod, 'Warning', 'SecretRotationFailed', `failed to rotate the secrets of SecretProviderClass ${pod.namespace}/${spcName} at ${targetPath}: ${messageOf(err)}; the old content stays`);
  }

  /** Takes down what a failed first mount made; logs rather than masks the original failure. */
  private async cleanup(targetPath: string): Promise<void> {
    try {
      await removeVolume(this.mounter, targetPath, false);
    } catch (err) {
      this.logger.error({ targetPath, err: messageOf(err) }, 'failed to clean up the target after a failed mount');
    }
  }

  /**
   * NodeUnpublishVolume after request validation: unmounts the driver's own tmpfs, removes
   * the atomic writer's files and the then-empty directory. A missing target, or one that
   * is no volume at all, is done (nothing touched); anything else left in place is a
   * FAILED_PRECONDITION that says what and why.
   */
  unpublish(targetPath: string): Promise<void> {
    return this.locks.run(targetPath, async () => {
      try {
        const outcome = await removeVolume(this.mounter, targetPath, this.records.get(targetPath) !== undefined);
        if (outcome === 'not-a-volume') {
          this.logger.info({ targetPath }, 'unpublish: the target is not a volume this driver made (not mounted by it, no ..data); left it as it is');
        }
        this.records.delete(targetPath);
        this.schedule.forget(targetPath);
        this.metrics.unpublished(true);
      } catch (err) {
        this.metrics.unpublished(false);
        if (err instanceof CsiError) {
          if (err.code === Status.FAILED_PRECONDITION) this.logger.warn({ targetPath, err: err.message }, 'unpublish left something in place');
          throw err;
        }
        throw new CsiError(Status.INTERNAL, `failed to unmount ${targetPath}: ${messageOf(err)}`, 'FailedToUnmount', { cause: err });
      }
    });
  }
}
