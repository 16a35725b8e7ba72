/**
 * The Kubernetes boundary of publish: read the SecretProviderClass, record the
 * SecretProviderClassPodStatus. `SecretsStoreApi` is the contract; `KubeSecretsStoreApi`
 * implements it over @kubernetes/client-node (one HTTP request per read, no caches).
 *
 * Contract: failures are thrown as CsiErrors whose code follows the API's answer (404 →
 * NOT_FOUND, 403 → PERMISSION_DENIED, 401 → UNAUTHENTICATED, 429/5xx/network →
 * UNAVAILABLE) and whose message names the object and the API's own message.
 */
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { makeApiClient } from './api-client.js';
import { isDeepStrictEqual } from 'node:util';
import { CsiError, Status, type ErrorReason } from '../csi-error.js';
import {
  secretsStoreGroup,
  secretsStoreVersion,
  type SecretProviderClass,
  type SecretProviderClassPodStatus,
} from './types.js';

export type UpsertResult = 'created' | 'updated' | 'unchanged';

export interface SecretsStoreApi {
  /** The v1 SecretProviderClass `name` in `namespace`. */
  getSecretProviderClass(namespace: string, name: string): Promise<SecretProviderClass>;
  /**
   * Creates the pod status, or brings an existing one up to date. An existing object that
   * already says the same is left alone (no write).
   */
  upsertPodStatus(status: SecretProviderClassPodStatus, current?: SecretProviderClassPodStatus | null): Promise<UpsertResult>;
  /** The pod status, or null when there is none. */
  getPodStatus(namespace: string, name: string): Promise<SecretProviderClassPodStatus | null>;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

function apiMessage(err: ApiException<unknown>): string {
  const body = err.body;
  if (body && typeof body === 'object' && typeof (body as StatusBody).message === 'string') return (body as StatusBody).message!;
  if (typeof body === 'string' && body !== '') {
    try {
      const parsed = JSON.parse(body) as StatusBody;
      if (parsed.message) return parsed.message;
    } catch {
      return body.slice(0, 300);
    }
  }
  return `HTTP ${err.code}`;
}

/** Maps a failed API call to a CsiError; `what` says what was being done. */
export function apiError(err: unknown, what: string, reason: ErrorReason, notFound?: string): CsiError {
  if (err instanceof ApiException) {
    const msg = apiMessage(err);
    const code = err.code;
    if (code === 404) return new CsiError(Status.NOT_FOUND, notFound ?? `${what}: ${msg}`, reason, { cause: err });
    if (code === 403) {
      return new CsiError(Status.PERMISSION_DENIED, `${what}: forbidden: ${msg}; check the driver's ClusterRole and binding`, reason, { cause: err });
    }
    if (code === 401) {
      return new CsiError(Status.UNAUTHENTICATED, `${what}: unauthorized: ${msg}; check the driver's service account token or kubeconfig`, reason, { cause: err });
    }
    if (code === 429 || code >= 500) {
      return new CsiError(Status.UNAVAILABLE, `${what}: Kubernetes API answered ${code}: ${msg}`, reason, { cause: err });
    }
    return new CsiError(Status.UNKNOWN, `${what}: Kubernetes API answered ${code}: ${msg}`, reason, { cause: err });
  }
  const msg = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
  return new CsiError(Status.UNAVAILABLE, `${what}: Kubernetes API unreachable: ${msg}`, reason, { cause: err });
}

function isConflict(err: unknown): boolean {
  return err instanceof ApiException && err.code === 409;
}

/** A failure that may pass: the server failed for now (5xx), or there was no answer. */
function isTransient(err: unknown): boolean {
  return err instanceof ApiException ? [500, 502, 503, 504].includes(err.code) : true;
}

const spcPlural = 'secretproviderclasses';
const spcpsPlural = 'secretproviderclasspodstatuses';

export class KubeSecretsStoreApi implements SecretsStoreApi {
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.custom = makeApiClient(kc, CustomObjectsApi);
  }

  async getSecretProviderClass(namespace: string, name: string): Promise<SecretProviderClass> {
    try {
      const obj = (await this.custom.getNamespacedCustomObject({
        group: secretsStoreGroup,
        version: secretsStoreVersion,
        namespace,
        plural: spcPlural,
        name,
      })) as SecretProviderClass;
      obj.spec ??= {};
      return obj;
    } catch (err) {
      throw apiError(
        err,
        `failed to get SecretProviderClass ${namespace}/${name}`,
        'SecretProviderClassNotFound',
        `SecretProviderClass ${JSON.stringify(name)} not found in namespace ${JSON.stringify(namespace)}: it must exist in the pod's namespace`,
      );
    }
  }

  async getPodStatus(namespace: string, name: string): Promise<SecretProviderClassPodStatus | null> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: secretsStoreGroup,
        version: secretsStoreVersion,
        namespace,
        plural: spcpsPlural,
        name,
      })) as SecretProviderClassPodStatus;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return null;
      throw apiError(err, `failed to get SecretProviderClassPodStatus ${namespace}/${name}`, 'PodStatusError');
    }
  }

  /**
   * `current`, when the caller just read the object (a remount), saves the create attempt
   * and the read: an unchanged status then costs no request at all.
   *
   * A create or replace that meets a transient failure (5xx, no answer) is tried again,
   * twice at most: the write is safe to repeat — a create that went through answers 409
   * and a replace carries the resourceVersion it read, so the retry reads the object back
   * and finds it unchanged — and a rotation whose files were swapped is not reported
   * failed for one blip of the API server.
   */
  async upsertPodStatus(status: SecretProviderClassPodStatus, current?: SecretProviderClassPodStatus | null): Promise<UpsertResult> {
    const namespace = status.metadata.namespace!;
    const name = status.metadata.name;
    const what = `failed to record SecretProviderClassPodStatus ${namespace}/${name}`;
    let transientRetries = 2;
    const retryTransient = async (err: unknown): Promise<boolean> => {
      if (!isTransient(err) || transientRetries === 0) return false;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (2 - transientRetries--) * (0.5 + Math.random())));
      return true;
    };
    let known = current ?? undefined;
    while (!known) {
      try {
        await this.custom.createNamespacedCustomObject({
          group: secretsStoreGroup,
          version: secretsStoreVersion,
          namespace,
          plural: spcpsPlural,
          body: status,
        });
        return 'created';
      } catch (err) {
        if (isConflict(err)) break;
        if (!(await retryTransient(err))) throw apiError(err, what, 'PodStatusError');
      }
    }
    // It exists (a remount, or a StatefulSet pod that moved here): update only if needed.
    for (let attempt = 0; ; attempt++) {
      const current = known ?? (await this.getPodStatus(namespace, name));
      known = undefined;
      if (current === null) return this.upsertPodStatus(status);
      const wanted: SecretProviderClassPodStatus = {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata.labels, ...status.metadata.labels },
          ownerReferences: status.metadata.ownerReferences,
        },
        status: status.status,
      };
      if (isDeepStrictEqual(wanted, current)) return 'unchanged';
      try {
        await this.custom.replaceNamespacedCustomObject({
          group: secretsStoreGroup,
          version: secretsStoreVersion,
          namespace,
          plural: spcpsPlural,
          name,
          body: wanted,
        });
        return 'updated';
      } catch (err) {
        if (isConflict(err) ? attempt >= 4 : !(await retryTransient(err))) throw apiError(err, what, 'PodStatusError');
      }
    }
  }
}
