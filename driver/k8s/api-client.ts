/**
 * The driver's API clients: @kubernetes/client-node's generated clients over its own fetch
 * transport, with client-go's rule for a throttled or overloaded API server added — an
 * answer of 429, or of 5xx carrying `Retry-After`, is sent again after the seconds the
 * server asked for (capped at `maxWaitMs`), up to `maxRetries` times. Without it, every
 * 429 of a busy API server became a failed mount, a lost event or a sync backoff.
 *
 * Other failures (a 500 or 503 without Retry-After, a 409, a network error) are the
 * caller's to handle, as with client-go: the kubelet retries a failed publish, the sync
 * backs off, the watches list again.
 */
import {
  createConfiguration,
  IsomorphicFetchHttpLibrary,
  ServerConfiguration,
  setHeaderMiddleware,
  wrapHttpLibrary,
  type Configuration,
  type KubeConfig,
  type PromiseHttpLibrary,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { driverVersion } from '../version.js';

export interface RetryAfterOptions {
  /** Most resends of one request; default 10, as client-go. */
  maxRetries?: number;
  /** Longest wait for one Retry-After; default 10 s. */
  maxWaitMs?: number;
  /** Called before each wait (for logs). */
  onRetry?: (info: { method: string; url: string; status: number; waitMs: number; attempt: number }) => void;
}

/** The wait a response asks for before the request may be sent again, or undefined. */
export function retryAfterMs(status: number, headers: Record<string, string>, maxWaitMs: number): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value.trim());
  // client-go reads whole seconds only; an HTTP date or garbage is no instruction to wait.
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(seconds)) return undefined;
  return Math.min(seconds * 1000, maxWaitMs);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A transport that honours Retry-After on 429 and 5xx answers. */
export class RetryAfterHttpLibrary implements PromiseHttpLibrary {
  private readonly fetch = new IsomorphicFetchHttpLibrary();

  constructor(private readonly options: RetryAfterOptions = {}) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const maxRetries = this.options.maxRetries ?? 10;
    for (let attempt = 1; ; attempt++) {
      const response = await this.fetch.send(request).toPromise();
      const waitMs = attempt > maxRetries ? undefined : retryAfterMs(response.httpStatusCode, response.headers, this.options.maxWaitMs ?? 10_000);
      if (waitMs === undefined) return response;
      // Read the refused answer so its connection goes back to the pool.
      await response.body.text().catch(() => undefined);
      this.options.onRetry?.({ method: request.getHttpMethod(), url: request.getUrl(), status: response.httpStatusCode, waitMs, attempt });
      await sleep(waitMs, request.getSignal());
    }
  }
}

/** `kc.makeApiClient(type)`, over the Retry-After transport. */
export function makeApiClient<T>(kc: KubeConfig, apiClientType: new (config: Configuration) => T, options: RetryAfterOptions = {}): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no Kubernetes API configured: the kubeconfig has no current cluster');
  return new apiClientType(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      httpApi: wrapHttpLibrary(new RetryAfterHttpLibrary(options)),
      middleware: [setHeaderMiddleware('User-Agent', `secrets-store-csi-driver/${driverVersion}`)],
    }),
  );
}
