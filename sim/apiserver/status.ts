/**
 * Errors as the Kubernetes API returns them: `Status` objects with the code, reason and
 * message a real server uses.
 */
import { qualifiedName, type ResourceKind } from './resources.js';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; retryAfterSeconds?: number; causes?: Array<{ reason?: string; message?: string; field?: string }> };
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
}

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export function statusError(code: number, message: string, reason = reasons[code] ?? 'Unknown', details?: StatusBody['details']): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

// The real server leaves out an empty group (a core kind's).
const detailsOf = (r: ResourceKind, name?: string) => ({ ...(name !== undefined ? { name } : {}), ...(r.group ? { group: r.group } : {}), kind: r.plural });

export function notFound(r: ResourceKind, name: string): ApiError {
  return statusError(404, `${qualifiedName(r)} "${name}" not found`, 'NotFound', detailsOf(r, name));
}

export function alreadyExists(r: ResourceKind, name: string): ApiError {
  return statusError(409, `${qualifiedName(r)} "${name}" already exists`, 'AlreadyExists', detailsOf(r, name));
}

export function conflict(r: ResourceKind, name: string): ApiError {
  return statusError(
    409,
    `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    'Conflict',
    detailsOf(r, name),
  );
}

/** The Status a fault rule answers with for `code`, shaped as the real cause would be. */
export function faultStatus(code: number, r: ResourceKind, verb: string, name: string | undefined, retryAfterSeconds = 1): ApiError {
  switch (code) {
    case 403:
      return statusError(403, `${qualifiedName(r)}${name ? ` "${name}"` : ''} is forbidden: User cannot ${verb} resource "${r.plural}" (injected fault)`, 'Forbidden', detailsOf(r, name));
    case 404:
      return notFound(r, name ?? '');
    case 409:
      return conflict(r, name ?? '');
    case 429:
      return new ApiError(
        { ...statusError(429, 'Too many requests, please try again later. (injected fault)', 'TooManyRequests', { ...detailsOf(r, name), retryAfterSeconds }).status },
        { 'retry-after': String(retryAfterSeconds) },
      );
    case 503:
      return statusError(503, 'the server is currently unable to handle the request (injected fault)', 'ServiceUnavailable', detailsOf(r, name));
    default:
      return statusError(code, `Internal error occurred: injected fault`, reasons[code] ?? 'InternalError', detailsOf(r, name));
  }
}
