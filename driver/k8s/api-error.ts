/**
 * The one error the driver's Kubernetes client throws: what was being done, the API
 * server's answer (HTTP status and the Status object's `reason` and `message`), or no
 * answer at all (`status` undefined: refused, reset, timed out). Callers decide what a
 * failure means from `status`; only the CSI edge turns it into a gRPC code
 * (driver/csi-error.ts `statusOf`).
 */
export class KubeApiError extends Error {
  /** The HTTP status, or undefined when the server gave no answer. */
  readonly status: number | undefined;
  /** The Status object's reason (`NotFound`, `Forbidden`, `Conflict`, `Expired`…), or ''. */
  readonly reason: string;
  /** The API server's own message (or the network error's), without what was being done. */
  readonly apiMessage: string;

  constructor(what: string, status: number | undefined, reason: string, apiMessage: string, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? `${what}: ${describe(status, apiMessage)}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.apiMessage = apiMessage;
  }

  /** The same failure under another message (e.g. a 404 said in the user's terms). */
  withMessage(message: string): KubeApiError {
    return new KubeApiError('', this.status, this.reason, this.apiMessage, { cause: this.cause, message });
  }
}

/** The answer in words, with what to check where the status says what is wrong. */
function describe(status: number | undefined, msg: string): string {
  if (status === undefined) return `Kubernetes API unreachable: ${msg}`;
  if (status === 403) return `forbidden: ${msg}; check the driver's ClusterRole and binding`;
  if (status === 401) return `unauthorized: ${msg}; check the driver's service account token or kubeconfig`;
  return `Kubernetes API answered ${status}: ${msg}`;
}

export const isNotFound = (err: unknown) => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof KubeApiError && err.status === 409;
/** The server failed for now (500, 502, 503, 504), or there was no answer. */
export const isTransient = (err: unknown) =>
  !(err instanceof KubeApiError) || err.status === undefined || err.status === 500 || err.status === 502 || err.status === 503 || err.status === 504;
