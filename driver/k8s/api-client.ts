/**
 * The driver's API clients: @kubernetes/client-node's generated clients over its own fetch
 * transport, with two retry rules added:
 *
 * - client-go's rule for a throttled or overloaded API server: an answer of 429, or of 5xx
 *   carrying `Retry-After`, is sent again after the seconds the server asked for (capped at
 *   `maxWaitMs`), up to `maxRetries` times, whatever the verb;
 * - a read (GET: get and list) that meets a transient failure — 500, 502, 503, 504 without
 *   Retry-After, or no answer at all — is sent again up to `readRetries` times after a short
 *   jittered backoff (100 ms, then 200 ms). A read changes nothing, so resending is safe.
 *
 * Without them, one blip of the API server became a failed mount whose FailedMount event
 * named the API instead of the real cause, a lost rotation or a sync backoff. Writes that
 * fail otherwise (a 500 or 503 without Retry-After, a 409, a network error) are the
 * caller's to handle, as with client-go: the kubelet retries a failed publish, the sync
 * backs off, the watches list again, events are retried by `recordEvent`.
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
  /** Resends of a read after a transient failure; default 2. */
  readRetries?: number;
  /** Called before each wait (for logs). */
  onRetry?: (info: { method: string; url: string; status: number | 'no answer'; waitMs: number; attempt: number }) => void;
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

/** Answers worth reading again: the server or a proxy in front of it failed for now. */
const transientStatus = (status: number) => status === 500 || status === 502 || status === 503 || status === 504;

/** The backoff before the n-th resend of a read (1-based): 100 ms doubling, ±50% jitter. */
const readBackoffMs = (n: number) => 100 * 2 ** (n - 1) * (0.5 + Math.random());

/** A transport that honours Retry-After on 429 and 5xx answers and resends failed reads. */
export class RetryAfterHttpLibrary implements PromiseHttpLibrary {
  private readonly fetch = new IsomorphicFetchHttpLibrary();

  constructor(private readonly options: RetryAfterOptions = {}) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const maxRetries = this.options.maxRetries ?? 10;
    const readRetries = request.getHttpMethod() === 'GET' ? (this.options.readRetries ?? 2) : 0;
    let resentReads = 0;
    const retry = async (status: number | 'no answer', waitMs: number, attempt: number) => {
      this.options.onRetry?.({ method: request.getHttpMethod(), url: request.getUrl(), status, waitMs, attempt });
      await sleep(waitMs, request.getSignal());
    };
    for (let attempt = 1; ; attempt++) {
      let response: ResponseContext;
      try {
        response = await this.fetch.send(request).toPromise();
      } catch (err) {
        if (resentReads >= readRetries || request.getSignal()?.aborted) throw err;
        await retry('no answer', readBackoffMs(++resentReads), attempt);
        continue;
      }
      const status = response.httpStatusCode;
      const waitMs = attempt > maxRetries ? undefined : retryAfterMs(status, response.headers, this.options.maxWaitMs ?? 10_000);
      const resendRead = waitMs === undefined && transientStatus(status) && resentReads < readRetries;
      if (waitMs === undefined && !resendRead) return response;
      // Read the refused answer so its connection goes back to the pool.
      await response.body.text().catch(() => undefined);
      await retry(status, waitMs ?? readBackoffMs(++resentReads), attempt);
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
