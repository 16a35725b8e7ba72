/**
 * Errors that carry the gRPC status code the CSI caller receives. Anything thrown inside a
 * CSI handler that is not a CsiError reaches the kubelet as UNKNOWN with its message, as
 * upstream's plain Go errors do; the message is what users read in the pod's FailedMount
 * event, so every message says what failed and, where it can, what to do.
 */
import { status as Status } from '@grpc/grpc-js';
import { KubeApiError } from './k8s/api-error.js';

export { Status };

/** Short reasons used as the `error_type` of error metrics, as upstream names them. */
export type ErrorReason =
  | 'SecretProviderClassNotFound'
  | 'FailedToEnsureMountPoint'
  | 'GRPCProviderError'
  | 'FileWriteError'
  | 'FailedToMount'
  | 'ProviderNotFound'
  | 'PodStatusError'
  | 'InvalidRequest'
  | (string & {});

export class CsiError extends Error {
  readonly code: Status;
  readonly reason: ErrorReason;

  constructor(code: Status, message: string, reason: ErrorReason = 'FailedToMount', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CsiError';
    this.code = code;
    this.reason = reason;
  }
}

export function invalidArgument(message: string): CsiError {
  return new CsiError(Status.INVALID_ARGUMENT, message, 'InvalidRequest');
}

/**
 * The gRPC code of a Kubernetes API failure, as upstream's driver answers the kubelet:
 * 404 NOT_FOUND, 403 PERMISSION_DENIED, 401 UNAUTHENTICATED, a throttled or failing server
 * (429, 5xx) or no answer UNAVAILABLE, anything else UNKNOWN.
 */
export function kubeApiStatus(err: KubeApiError): Status {
  const s = err.status;
  if (s === undefined || s === 429 || s >= 500) return Status.UNAVAILABLE;
  if (s === 404) return Status.NOT_FOUND;
  if (s === 403) return Status.PERMISSION_DENIED;
  if (s === 401) return Status.UNAUTHENTICATED;
  return Status.UNKNOWN;
}

/** A Kubernetes API failure as the CSI caller receives it, with the reason its metrics name. */
export function fromKubeApi(err: unknown, reason: ErrorReason): unknown {
  return err instanceof KubeApiError ? new CsiError(kubeApiStatus(err), err.message, reason, { cause: err }) : err;
}

/** The gRPC status a thrown value maps to. */
export function statusOf(err: unknown): Status {
  if (err instanceof CsiError) return err.code;
  if (err instanceof KubeApiError) return kubeApiStatus(err);
  return Status.UNKNOWN;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
