/**
 * The simulated kubelet: for the pods bound to its node it does what DESIGN §2.3 says the
 * real kubelet does with inline `secrets-store.csi.k8s.io` volumes, over the driver's real
 * CSI socket — target path under its root dir, volume handle, readonly, volume context with
 * pod info and `csi.storage.k8s.io/ephemeral`, service-account tokens for the CSIDriver's
 * tokenRequests, nodePublishSecretRef secrets. A failed publish becomes a Warning
 * `FailedMount` event with the gRPC error text and is retried with exponential backoff; a
 * pod whose volumes are all published is Running and Ready; with requiresRepublish the
 * volumes are published again every period (a change of a volume's files is written to the
 * containers' logs); a deleted pod's volumes are unpublished, its
 * directory removed and its deletion finished.
 *
 * Pods are worked on concurrently (one worker per pod, as the kubelet's pod workers), each
 * pod's own steps in order. Timings are data (`KubeletTimings`), not constants.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { mkdir, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../log/logger.js';
import { csiClient, type CsiClient } from '../../harness/csi-client.js';
import type { KubeObject, ObjectStore, StoreEvent } from '../apiserver/object-store.js';
import type { ContainerLogReader, ContainerLogSource } from '../apiserver/pod-log.js';
import { EventRecorder } from '../controllers/event-recorder.js';
import { ContainerLog } from './container-log.js';
import { describeFiles, listVolumeFiles, type VolumeFile } from './volume-listing.js';
import { tokensAttribute, type TokenRequest } from './service-account-token.js';

export const driverName = 'secrets-store.csi.k8s.io';

/** The kubelet's name for a volume's attachment on a node (csi_attacher getAttachmentName). */
export const attachmentName = (volumeHandle: string, driver: string, node: string): string => `csi-${createHash('sha256').update(`${volumeHandle}${driver}${node}`).digest('hex')}`;

export interface KubeletTimings {
  /** First retry after a failed mount; doubles per failure up to `backoffMaxMs`. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Republish period for drivers with requiresRepublish (the real kubelet's sync period is about 60-90 s). */
  republishPeriodMs: number;
  /** ± share of the period added at random so republishes do not line up. */
  republishJitter: number;
  /** Deadline of each CSI call. */
  csiTimeoutMs: number;
}

export const defaultKubeletTimings: KubeletTimings = {
  backoffInitialMs: 500,
  backoffMaxMs: 32_000,
  republishPeriodMs: 60_000,
  republishJitter: 0.1,
  csiTimeoutMs: 120_000,
};

export interface KubeletOptions {
  store: ObjectStore;
  nodeName: string;
  /** The kubelet's root dir (like /var/lib/kubelet): pods/<uid>/volumes/kubernetes.io~csi/<vol>/mount. */
  rootDir: string;
  /** The driver's CSI socket path. */
  csiSocket: string;
  timings?: Partial<KubeletTimings>;
  logger: Logger;
  /** An address for the node (InternalIP) and its pods. */
  nodeIp?: string;
}

interface CsiVolumeSource {
  driver: string;
  readOnly?: boolean;
  volumeAttributes?: Record<string, string>;
  nodePublishSecretRef?: { name: string };
  fsType?: string;
}

interface PodVolume {
  name: string;
  csi?: CsiVolumeSource;
  [source: string]: unknown;
}

interface ContainerSpec {
  name: string;
  image?: string;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}

interface PodSpec {
  nodeName?: string;
  securityContext?: { fsGroup?: number };
  serviceAccountName?: string;
  volumes?: PodVolume[];
  containers?: ContainerSpec[];
}

interface VolumeState {
  name: string;
  targetPath: string;
  volumeHandle: string;
  published: boolean;
  publishedAt: number;
  /** The volume's files as last written to the containers' logs (paths and sizes). */
  listing?: string;
}

interface PodState {
  uid: string;
  namespace: string;
  name: string;
  volumes: Map<string, VolumeState>;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  gone: boolean;
}

const grpcCodeName = (code: number) =>
  (
    ({
      [GrpcStatus.CANCELLED]: 'Canceled',
      [GrpcStatus.UNKNOWN]: 'Unknown',
      [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
      [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
      [GrpcStatus.NOT_FOUND]: 'NotFound',
      [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
      [GrpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
      [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
      [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
      [GrpcStatus.ABORTED]: 'Aborted',
      [GrpcStatus.OUT_OF_RANGE]: 'OutOfRange',
      [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
      [GrpcStatus.INTERNAL]: 'Internal',
      [GrpcStatus.UNAVAILABLE]: 'Unavailable',
      [GrpcStatus.DATA_LOSS]: 'DataLoss',
      [GrpcStatus.UNAUTHENTICATED]: 'Unauthenticated',
    }) as Record<number, string>
  )[code] ?? `Code(${code})`;

/** How the kubelet words a failed CSI call: `rpc error: code = Unavailable desc = ...`. */
/**
 * Whether a failed CSI call is final (the kubelet's csi_client isFinalError): a gRPC status
 * other than Canceled, DeadlineExceeded, Unavailable, ResourceExhausted and Aborted (those may
 * still be in progress in the driver). An error that is not a gRPC status failed before the
 * call and is not final either (the kubelet's errors before NodePublishVolume are transient).
 */
export function isFinalError(err: unknown): boolean {
  const code = (err as Partial<ServiceError>).code;
  if (typeof code !== 'number') return false;
  return !(code === GrpcStatus.CANCELLED || code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.RESOURCE_EXHAUSTED || code === GrpcStatus.ABORTED);
}

/**
 * csi_mounter's removeMountDir: unless the target is a mount point (on another device than
 * its parent, as mount-utils' IsLikelyNotMountPoint tells), remove it (empty only), then
 * vol_data.json and the volume dir.
 */
async function removeMountDir(target: string): Promise<void> {
  const [self, parent] = await Promise.all([stat(target).catch(() => undefined), stat(dirname(target))]);
  if (self && self.dev !== parent.dev) return;
  if (self) await rmdir(target);
  await unlink(join(dirname(target), 'vol_data.json')).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rmdir(dirname(target));
}

export function rpcErrorText(err: unknown): string {
  const e = err as Partial<ServiceError>;
  if (typeof e.code === 'number') return `rpc error: code = ${grpcCodeName(e.code)} desc = ${e.details ?? e.message}`;
  return (err as Error).message ?? String(err);
}

/** The kubelet's handle for an inline CSI volume: "csi-" + sha256(podUID + volumeName). */
export function ephemeralVolumeHandle(podUid: string, volumeName: string): string {
  return `csi-${createHash('sha256').update(`${podUid}${volumeName}`).digest('hex')}`;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** How a container's log names a volume's source: `csi secrets-store.csi.k8s.io, secretProviderClass app` or `emptyDir`. */
function volumeSource(v: PodVolume): string {
  if (v.csi) {
    const spc = v.csi.volumeAttributes?.secretProviderClass;
    return `csi ${v.csi.driver}${spc ? `, secretProviderClass ${spc}` : ''}`;
  }
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

export class SimKubelet implements ContainerLogSource {
  private readonly store: ObjectStore;
  private readonly timings: KubeletTimings;
  private readonly events: EventRecorder;
  private readonly pods = new Map<string, PodState>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** The running containers' logs, by pod uid and container name. */
  private readonly logs = new Map<string, Map<string, ContainerLog>>();
  private csi: CsiClient | undefined;
  /** Whether the driver advertises VOLUME_MOUNT_GROUP (asked once, again after a failure). */
  private mountGroupCapability: Promise<boolean> | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: KubeletOptions) {
    this.store = options.store;
    this.timings = { ...defaultKubeletTimings, ...options.timings };
    this.events = new EventRecorder(this.store, { component: 'kubelet', host: options.nodeName });
  }

  get nodeName(): string {
    return this.options.nodeName;
  }

  /**
   * The target path of a pod's volume, as the kubelet lays it out. Stated here as the real
   * kubelet states it for itself; the harness reads it through cluster/kubelet-layout.ts, and
   * test/cluster/kubelet-layout.test.ts pins the two together.
   */
  targetPath(podUid: string, volumeName: string): string {
    return join(this.options.rootDir, 'pods', podUid, 'volumes', 'kubernetes.io~csi', volumeName, 'mount');
  }

  /** Registers the Node (Ready) and starts working on its pods. */
  start(): this {
    this.csi = csiClient(this.options.csiSocket, this.timings.csiTimeoutMs, {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    const node = this.store.get('nodes', undefined, this.nodeName);
    const status = {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      addresses: [{ type: 'InternalIP', address: this.options.nodeIp ?? '10.0.0.2' }, { type: 'Hostname', address: this.nodeName }],
      nodeInfo: { kubeletVersion: 'v1.32.0-sscsi-sim', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch },
    };
    if (!node) {
      const created = this.store.create('nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: this.nodeName, labels: { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux' } },
        spec: {},
      });
      this.store.update('nodes', { ...created, status }, { subresource: 'status' });
    }
    this.unsubscribe = this.store.onEvent((e) => this.onEvent(e));
    for (const pod of this.store.list('pods')) if ((pod.spec as PodSpec | undefined)?.nodeName === this.nodeName) this.track(pod, false);
    return this;
  }

  private onEvent(e: StoreEvent): void {
    if (e.plural !== 'pods' || (e.object.spec as PodSpec | undefined)?.nodeName !== this.nodeName) return;
    this.track(e.object, e.type === 'DELETED');
  }

  private track(pod: KubeObject, deleted: boolean): void {
    const uid = pod.metadata.uid!;
    let state = this.pods.get(uid);
    if (!state) {
      if (deleted) return;
      state = { uid, namespace: pod.metadata.namespace!, name: pod.metadata.name!, volumes: new Map(), failures: 0, timer: undefined, gone: false };
      this.pods.set(uid, state);
    }
    if (deleted) state.gone = true;
    this.enqueue(uid);
  }

  /** Runs the pod's worker now, or again right after the run in progress. */
  private enqueue(uid: string): void {
    if (this.stopped) return;
    if (this.running.has(uid)) {
      this.dirty.add(uid);
      return;
    }
    const run = (async () => {
      do {
        this.dirty.delete(uid);
        const state = this.pods.get(uid);
        if (!state) return;
        try {
          await this.syncPod(state);
        } catch (err) {
          this.options.logger.error({ pod: `${state.namespace}/${state.name}`, err: (err as Error).message }, 'kubelet pod sync failed');
          this.retryLater(state);
        }
      } while (this.dirty.has(uid) && !this.stopped);
    })().finally(() => this.running.delete(uid));
    this.running.set(uid, run);
  }

  private retryLater(state: PodState): void {
    if (state.timer || this.stopped) return;
    const delay = Math.min(this.timings.backoffMaxMs, this.timings.backoffInitialMs * 2 ** state.failures);
    state.failures++;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.enqueue(state.uid);
    }, delay);
  }

  private schedule(state: PodState, delayMs: number): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.enqueue(state.uid);
    }, delayMs);
  }

  private currentPod(state: PodState): KubeObject | undefined {
    const pod = this.store.get('pods', state.namespace, state.name);
    return pod && pod.metadata.uid === state.uid ? pod : undefined;
  }

  private async syncPod(state: PodState): Promise<void> {
    const pod = state.gone ? undefined : this.currentPod(state);
    if (!pod || pod.metadata.deletionTimestamp) {
      await this.teardown(state, pod);
      return;
    }
    const spec = (pod.spec ?? {}) as PodSpec;
    const csiDriver = this.store.get('csidrivers', undefined, driverName);
    const volumes = (spec.volumes ?? []).filter((v) => v.csi);
    let failed = false;
    let nextRepublish = Infinity;
    const requiresRepublish = (csiDriver?.spec as { requiresRepublish?: boolean } | undefined)?.requiresRepublish === true;
    for (const v of volumes) {
      let vs = state.volumes.get(v.name);
      if (!vs) {
        vs = { name: v.name, targetPath: this.targetPath(state.uid, v.name), volumeHandle: ephemeralVolumeHandle(state.uid, v.name), published: false, publishedAt: 0 };
        state.volumes.set(v.name, vs);
      }
      const due = !vs.published || (requiresRepublish && Date.now() - vs.publishedAt >= this.timings.republishPeriodMs * 0.999);
      if (!due) {
        nextRepublish = Math.min(nextRepublish, vs.publishedAt + this.timings.republishPeriodMs);
        continue;
      }
      try {
        await this.publish(pod, v, vs, csiDriver);
        if (vs.published) await this.logVolumeChange(pod, v, vs);
        vs.published = true;
        vs.publishedAt = Date.now();
        const jitter = 1 + (Math.random() * 2 - 1) * this.timings.republishJitter;
        nextRepublish = Math.min(nextRepublish, Date.now() + this.timings.republishPeriodMs * jitter);
      } catch (err) {
        failed = true;
        // As csi_mounter: after a final error (the driver says it is done), the kubelet
        // removes the target if it is not a mount point, vol_data.json and the volume dir.
        if (isFinalError(err)) await removeMountDir(vs.targetPath).catch(() => undefined);
        const text = `MountVolume.SetUp failed for volume "${v.name}" : ${rpcErrorText(err)}`;
        this.events.record(pod, 'Warning', 'FailedMount', text);
        this.options.logger.warn({ pod: `${state.namespace}/${state.name}`, volume: v.name, err: text }, 'mount failed');
      }
      if (this.currentPod(state)?.metadata.deletionTimestamp !== undefined || state.gone) {
        this.enqueue(state.uid);
        return;
      }
    }
    if (failed) {
      this.setPending(pod);
      this.retryLater(state);
      return;
    }
    state.failures = 0;
    if (!this.logs.has(state.uid)) await this.startContainers(pod, state);
    this.setRunning(pod);
    if (requiresRepublish && Number.isFinite(nextRepublish)) this.schedule(state, Math.max(0, nextRepublish - Date.now()));
  }

  private async publish(pod: KubeObject, v: PodVolume, vs: VolumeState, csiDriver: KubeObject | undefined): Promise<void> {
    const source = v.csi!;
    if (source.driver !== driverName) {
      throw new Error(`kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name ${source.driver} not found in the list of registered CSI drivers`);
    }
    const spec = pod.spec as PodSpec;
    const driverSpec = (csiDriver?.spec ?? {}) as { podInfoOnMount?: boolean; tokenRequests?: TokenRequest[]; serviceAccountTokenInSecrets?: boolean; fsGroupPolicy?: string };
    const namespace = pod.metadata.namespace!;
    const serviceAccount = spec.serviceAccountName ?? 'default';
    const volumeContext: Record<string, string> = { ...source.volumeAttributes };
    if (driverSpec.podInfoOnMount) {
      Object.assign(volumeContext, {
        'csi.storage.k8s.io/pod.name': pod.metadata.name!,
        'csi.storage.k8s.io/pod.namespace': namespace,
        'csi.storage.k8s.io/pod.uid': pod.metadata.uid!,
        'csi.storage.k8s.io/serviceAccount.name': serviceAccount,
      });
    }
    volumeContext['csi.storage.k8s.io/ephemeral'] = 'true';
    const secrets: Record<string, string> = {};
    if (source.nodePublishSecretRef?.name) {
      const ref = source.nodePublishSecretRef.name;
      const secret = this.store.get('secrets', namespace, ref);
      if (!secret) {
        throw new Error(
          `fetching NodePublishSecretRef ${namespace}/${ref} failed: kubernetes.io/csi: failed to find the secret ${ref} in the namespace ${namespace} with error: secrets "${ref}" not found`,
        );
      }
      for (const [k, b64] of Object.entries((secret.data as Record<string, string> | undefined) ?? {})) secrets[k] = Buffer.from(b64, 'base64').toString('utf8');
      for (const [k, s] of Object.entries((secret.stringData as Record<string, string> | undefined) ?? {})) secrets[k] = s;
    }
    if (driverSpec.tokenRequests?.length) {
      const sa = this.store.get('serviceaccounts', namespace, serviceAccount);
      if (!sa) throw new Error(`failed to get service account token attributes: serviceaccounts "${serviceAccount}" not found`);
      const tokens = tokensAttribute(driverSpec.tokenRequests, {
        namespace,
        podName: pod.metadata.name!,
        podUid: pod.metadata.uid!,
        serviceAccountName: serviceAccount,
        serviceAccountUid: sa.metadata.uid!,
      });
      if (driverSpec.serviceAccountTokenInSecrets) secrets['csi.storage.k8s.io/serviceAccount.tokens'] = tokens;
      else volumeContext['csi.storage.k8s.io/serviceAccount.tokens'] = tokens;
    }
    const volumeDir = join(vs.targetPath, '..');
    await mkdir(volumeDir, { recursive: true, mode: 0o750 });
    // The kubelet's csi_mounter saves these before NodePublishVolume, for the teardown.
    await writeFile(
      join(volumeDir, 'vol_data.json'),
      JSON.stringify({
        attachmentID: attachmentName(vs.volumeHandle, driverName, this.nodeName),
        driverName,
        nodeName: this.nodeName,
        specVolID: v.name,
        volumeHandle: vs.volumeHandle,
        volumeLifecycleMode: 'Ephemeral',
      }),
    );
    // As the kubelet (csi_mounter SetUpAt): a driver that can take the group itself
    // (VOLUME_MOUNT_GROUP) gets the pod's fsGroup as volume_mount_group, whatever the
    // CSIDriver's fsGroupPolicy — the policy only rules the kubelet's own chown, which a
    // read-only volume never gets.
    const fsGroup = spec.securityContext?.fsGroup;
    const mountGroup = fsGroup !== undefined && (await this.driverTakesMountGroup()) ? String(fsGroup) : '';
    await this.csi!.nodePublishVolume({
      volume_id: vs.volumeHandle,
      target_path: vs.targetPath,
      readonly: source.readOnly ?? false,
      volume_capability: { mount: { fs_type: source.fsType ?? '', mount_flags: [], volume_mount_group: mountGroup }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
      secrets,
      volume_context: volumeContext,
    });
  }

  private driverTakesMountGroup(): Promise<boolean> {
    this.mountGroupCapability ??= this.csi!.nodeGetCapabilities({}).then(
      (r) => r.capabilities.some((c) => c.rpc?.type === 'VOLUME_MOUNT_GROUP'),
      (err: unknown) => {
        this.mountGroupCapability = undefined;
        throw err;
      },
    );
    return this.mountGroupCapability;
  }

  private async teardown(state: PodState, pod: KubeObject | undefined): Promise<void> {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    for (const vs of state.volumes.values()) {
      try {
        await this.csi!.nodeUnpublishVolume({ volume_id: vs.volumeHandle, target_path: vs.targetPath });
        state.volumes.delete(vs.name);
      } catch (err) {
        const text = `UnmountVolume.TearDown failed for volume "${vs.name}" : ${rpcErrorText(err)}`;
        if (pod) this.events.record(pod, 'Warning', 'FailedUnmount', text);
        this.options.logger.warn({ pod: `${state.namespace}/${state.name}`, err: text }, 'unmount failed');
        this.retryLater(state);
        return;
      }
    }
    for (const log of this.logs.get(state.uid)?.values() ?? []) log.end();
    this.logs.delete(state.uid);
    await rm(join(this.options.rootDir, 'pods', state.uid), { recursive: true, force: true });
    if (pod) {
      try {
        this.store.delete('pods', state.namespace, state.name, { gracePeriodSeconds: 0, preconditions: { uid: state.uid } });
      } catch (err) {
        if ((err as { status?: { code?: number } }).status?.code !== 404) throw err;
      }
    }
    this.pods.delete(state.uid);
  }

  private updateStatus(pod: KubeObject, status: Record<string, unknown>): void {
    const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name!);
    if (!current || current.metadata.uid !== pod.metadata.uid || current.metadata.deletionTimestamp) return;
    this.store.update('pods', { ...current, status: { ...(current.status as object), ...status } }, { subresource: 'status' });
  }

  private containers(pod: KubeObject) {
    return ((pod.spec as PodSpec).containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '' }));
  }

  private setPending(pod: KubeObject): void {
    const st = pod.status as { phase?: string } | undefined;
    if (st?.phase === 'Pending' && (pod.status as { containerStatuses?: unknown[] }).containerStatuses) return;
    this.updateStatus(pod, {
      phase: 'Pending',
      hostIP: this.options.nodeIp ?? '10.0.0.2',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now() },
        { type: 'Initialized', status: 'True', lastTransitionTime: now() },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now() },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now() },
      ],
      containerStatuses: this.containers(pod).map((c) => ({ ...c, ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })),
    });
  }

  private setRunning(pod: KubeObject): void {
    if ((pod.status as { phase?: string } | undefined)?.phase === 'Running') return;
    const started = now();
    this.updateStatus(pod, {
      phase: 'Running',
      hostIP: this.options.nodeIp ?? '10.0.0.2',
      podIP: `10.244.0.${1 + (parseInt(pod.metadata.uid!.slice(0, 4), 16) % 250)}`,
      startTime: started,
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: started },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
        { type: 'Initialized', status: 'True', lastTransitionTime: started },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: started },
        { type: 'Ready', status: 'True', lastTransitionTime: started },
      ],
      containerStatuses: this.containers(pod).map((c) => ({
        ...c,
        imageID: '',
        containerID: `sim://${createHash('sha256').update(`${pod.metadata.uid}/${c.name}`).digest('hex').slice(0, 32)}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: started } },
      })),
    });
  }

  /**
   * Starts the pod's (simulated) containers: each one's log begins by saying which of the
   * pod's volumes it mounts where and what files they hold — names and sizes, never bytes.
   */
  private async startContainers(pod: KubeObject, state: PodState): Promise<void> {
    const spec = pod.spec as PodSpec;
    const logs = new Map<string, ContainerLog>();
    // Each volume is listed once, however many containers mount it.
    const listed = new Map<string, Promise<VolumeFile[]>>();
    for (const c of spec.containers ?? []) {
      const log = new ContainerLog();
      log.write(`[sim] container ${c.name} (image ${c.image ?? ''}) started in pod ${state.namespace}/${state.name} on node ${this.nodeName}`);
      for (const v of spec.volumes ?? []) {
        const mounts = (c.volumeMounts ?? []).filter((m) => m.name === v.name);
        const where = mounts.length > 0 ? `mounted at ${mounts.map((m) => m.mountPath).join(', ')}` : 'not mounted in this container';
        const vs = state.volumes.get(v.name);
        if (!v.csi || !vs || mounts.length === 0) {
          log.write(`[sim] volume ${v.name} (${volumeSource(v)}) ${where}`);
          continue;
        }
        if (!listed.has(v.name)) listed.set(v.name, listVolumeFiles(vs.targetPath));
        const files = await listed.get(v.name)!;
        vs.listing = JSON.stringify(files);
        log.write(`[sim] volume ${v.name} (${volumeSource(v)}) ${where}: ${files.length} ${files.length === 1 ? 'file' : 'files'}`, ...describeFiles(files));
      }
      logs.set(c.name, log);
    }
    this.logs.set(state.uid, logs);
  }

  /** After a republish: if the volume's files changed, the containers mounting it say so. */
  private async logVolumeChange(pod: KubeObject, v: PodVolume, vs: VolumeState): Promise<void> {
    const logs = this.logs.get(pod.metadata.uid!);
    if (!logs) return;
    const files = await listVolumeFiles(vs.targetPath);
    const listing = JSON.stringify(files);
    if (listing === vs.listing) return;
    vs.listing = listing;
    for (const c of (pod.spec as PodSpec).containers ?? []) {
      if (!(c.volumeMounts ?? []).some((m) => m.name === v.name)) continue;
      logs.get(c.name)?.write(`[sim] volume ${v.name} updated: ${files.length} ${files.length === 1 ? 'file' : 'files'}`, ...describeFiles(files));
    }
  }

  /** The kubelet's containerLogs endpoint: a running container's log, or why there is none. */
  containerLog(pod: KubeObject, container: string, previous: boolean): ContainerLogReader | { error: string } {
    const name = pod.metadata.name!;
    if (previous) return { error: `previous terminated container "${container}" in pod "${name}" not found` };
    const log = this.logs.get(pod.metadata.uid!)?.get(container);
    if (log) return log;
    return { error: `container "${container}" in pod "${name}" is waiting to start: ContainerCreating` };
  }

  /** Pods this kubelet still tracks (for tests and the cluster's cleanup). */
  trackedPods(): number {
    return this.pods.size;
  }

  /** Stops working; with `unpublish`, tears down every volume it published first. */
  async stop(options: { unpublish?: boolean } = {}): Promise<void> {
    this.unsubscribe?.();
    await Promise.allSettled([...this.running.values()]);
    this.stopped = true;
    for (const s of this.pods.values()) if (s.timer) clearTimeout(s.timer);
    if (options.unpublish) {
      for (const s of [...this.pods.values()]) {
        for (const vs of s.volumes.values()) {
          await this.csi!.nodeUnpublishVolume({ volume_id: vs.volumeHandle, target_path: vs.targetPath }).catch(() => undefined);
        }
      }
    }
    this.csi?.close();
  }
}
