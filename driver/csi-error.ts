/**
 * Errors that carry the gRPC status code the CSI caller receives. Anything thrown inside a
 * CSI handler that is not a CsiError reaches the kubelet as UNKNOWN with its message, as
 * upstream's plain Go errors do; the message is what users read in the pod's FailedMount
 * event, so every message says what failed and, where it can, what to do.
 */
import { status as Status } from '@grpc/grpc-js';

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

/** The gRPC status a thrown value maps to. */
export function statusOf(err: unknown): Status {
  return err instanceof CsiError ? err.code : Status.UNKNOWN;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
