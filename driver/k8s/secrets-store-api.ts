/**
 * The Kubernetes boundary of publish: read the SecretProviderClass, record the
 * SecretProviderClassPodStatus. `SecretsStoreApi` is the contract; `KubeSecretsStoreApi`
 * implements it over the driver's KubeClient (one HTTP request per read, no caches).
 *
 * Contract: failures are thrown as KubeApiErrors (api-error.ts) whose message names the
 * object and the API's own answer; a missing SecretProviderClass says where it must be.
 * The CSI edge maps them to gRPC codes (driver/csi-error.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { isConflict, isNotFound, isTransient, KubeApiError } from './api-error.js';
import type { KubeClient } from './kube-client.js';
import { secretsStoreGroup, secretsStoreVersion, type SecretProviderClass, type SecretProviderClassPodStatus } from './types.js';

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

const groupPath = `/apis/${secretsStoreGroup}/${secretsStoreVersion}`;
const objectPath = (plural: string, namespace: string, name?: string) =>
  `${groupPath}/namespaces/${encodeURIComponent(namespace)}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

export class KubeSecretsStoreApi implements SecretsStoreApi {
  constructor(private readonly client: KubeClient) {}

  async getSecretProviderClass(namespace: string, name: string): Promise<SecretProviderClass> {
    try {
      const obj = await this.client.request<SecretProviderClass>('GET', objectPath('secretproviderclasses', namespace, name), {
        what: `failed to get SecretProviderClass ${namespace}/${name}`,
      });
      obj.spec ??= {};
      return obj;
    } catch (err) {
      if (isNotFound(err)) {
        throw (err as KubeApiError).withMessage(
          `SecretProviderClass ${JSON.stringify(name)} not found in namespace ${JSON.stringify(namespace)}: it must exist in the pod's namespace`,
        );
      }
      throw err;
    }
  }

  async getPodStatus(namespace: string, name: string): Promise<SecretProviderClassPodStatus | null> {
    try {
      return await this.client.request<SecretProviderClassPodStatus>('GET', objectPath('secretproviderclasspodstatuses', namespace, name), {
        what: `failed to get SecretProviderClassPodStatus ${namespace}/${name}`,
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
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
   * failed for one blip of the API server. A replace that meets 409 (someone wrote in
   * between) reads the object again and replaces with its fresh resourceVersion.
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
        await this.client.request('POST', objectPath('secretproviderclasspodstatuses', namespace), { body: status, what });
        return 'created';
      } catch (err) {
        if (isConflict(err)) break;
        if (!(await retryTransient(err))) throw err;
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
        await this.client.request('PUT', objectPath('secretproviderclasspodstatuses', namespace, name), { body: wanted, what });
        return 'updated';
      } catch (err) {
        if (isConflict(err) ? attempt >= 4 : !(await retryTransient(err))) throw err;
      }
    }
  }
}
