/**
 * What NodePublishVolume and NodeUnpublishVolume do, step by step (DESIGN §3), apart from
 * the gRPC plumbing: decide whether there is work, read the SecretProviderClass, make the
 * volume, fetch from the provider, write atomically, record the pod status — and on a
 * failed first mount, leave the target as if nothing had happened.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import type { NodePublishVolumeRequest__Output } from '../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { CsiError, Status, invalidArgument, messageOf } from './csi-error.js';
import { PayloadError } from './fileutil/payload.js';
import { writeProviderFiles } from './fileutil/atomic-writer.js';
import type { SecretsStoreApi } from './k8s/secrets-store-api.js';
import { buildPodStatus, type PodRef } from './k8s/types.js';
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

export type PublishOutcome = 'mounted' | 'remounted' | 'already-mounted';

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
  timings?: PublishTimings;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

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

  constructor(
    private readonly mounter: Mounter,
    private readonly providers: ProviderClients,
    private readonly api: SecretsStoreApi,
    private readonly options: PublisherOptions,
    private readonly logger: Logger,
  ) {}

  /** NodePublishVolume after request validation. `deadline` is epoch ms. */
  publish(req: NodePublishVolumeRequest__Output, deadline: number): Promise<PublishResult> {
    const target = publishTarget(req);
    return this.locks.run(target.targetPath, () => this.publishLocked(req, target, deadline));
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

  private async publishLocked(req: NodePublishVolumeRequest__Output, target: PublishTarget, deadline: number): Promise<PublishResult> {
    const { targetPath, spcName, pod } = target;
    const mounted = await this.isMounted(targetPath);
    if (mounted) {
      if (!this.options.rotationEnabled) return { outcome: 'already-mounted' };
      // With rotation, a republish is a rotation once the content is older than the interval.
      const age = Date.now() - (await stat(targetPath)).mtimeMs;
      if (age < this.options.rotationPollIntervalMs) return { outcome: 'already-mounted' };
    }

    const timings: PublishTimings = { spcMs: 0, mountMs: 0, providerMs: 0, writeMs: 0, statusMs: 0 };
    let mark = performance.now();
    const lap = (step: keyof PublishTimings) => {
      const now = performance.now();
      timings[step] = round2(now - mark);
      mark = now;
    };
    const spc = await this.api.getSecretProviderClass(pod.namespace, spcName);
    lap('spcMs');
    const provider = spc.spec.provider ?? '';
    if (provider === '') {
      throw new CsiError(Status.FAILED_PRECONDITION, `SecretProviderClass ${pod.namespace}/${spcName} has no spec.provider: set it to the provider's name`, 'FailedToMount');
    }
    const parameters = spc.spec.parameters;
    if (!parameters || Object.keys(parameters).length === 0) {
      throw new CsiError(Status.FAILED_PRECONDITION, `SecretProviderClass ${pod.namespace}/${spcName} has no spec.parameters: the provider needs them to know what to mount`, 'FailedToMount');
    }

    if (!mounted) {
      try {
        await mkdir(targetPath, { recursive: true, mode: 0o750 });
        await this.mounter.mount(targetPath);
        lap('mountMs');
      } catch (err) {
        await this.cleanup(targetPath);
        throw new CsiError(Status.INTERNAL, `failed to mount ${this.mounter.kind} at ${targetPath}: ${messageOf(err)}`, 'FailedToMount', { cause: err });
      }
    }

    try {
      const { attributes, secrets } = providerAttributes(parameters, req.volume_context, req.secrets);
      const result = await this.providers.mount(provider, {
        attributes: JSON.stringify(attributes),
        secrets: JSON.stringify(secrets),
        targetPath,
        permission: JSON.stringify(defaultFilePermission),
        currentObjectVersion: [],
        deadline,
      });
      lap('providerMs');
      let written;
      try {
        written = writeProviderFiles(targetPath, result.files, defaultFilePermission);
      } catch (err) {
        if (err instanceof PayloadError) {
          throw new CsiError(Status.UNKNOWN, `provider ${JSON.stringify(provider)} returned an unusable reply: ${err.message}`, 'FileWriteError', { cause: err });
        }
        throw new CsiError(Status.INTERNAL, `failed to write files to ${targetPath}: ${messageOf(err)}`, 'FileWriteError', { cause: err });
      }
      lap('writeMs');
      await this.api.upsertPodStatus(
        buildPodStatus({ pod, spcName, nodeId: this.options.nodeId, targetPath, objects: result.objectVersions }),
      );
      lap('statusMs');
      return {
        outcome: mounted ? 'remounted' : 'mounted',
        provider,
        objects: result.objectVersions.length,
        changedFiles: written.changedPaths.length,
        timings,
      };
    } catch (err) {
      // A failed first mount leaves nothing behind, so the kubelet's retry starts fresh; a
      // failed remount keeps the content the pod already has.
      if (!mounted) await this.cleanup(targetPath);
      throw err;
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
    await rm(targetPath, { recursive: true, force: true });
  }

  /** NodeUnpublishVolume after request validation: unmount, remove; a missing target is done. */
  unpublish(targetPath: string): Promise<void> {
    return this.locks.run(targetPath, async () => {
      try {
        await this.removeTarget(targetPath);
      } catch (err) {
        throw new CsiError(Status.INTERNAL, `failed to unmount ${targetPath}: ${messageOf(err)}`, 'FailedToUnmount', { cause: err });
      }
    });
  }
}
