/**
 * The driver's Kubernetes API client: JSON requests and watch streams over Node's own
 * http/https, for exactly the calls the driver makes (driver/k8s/secrets-store-api.ts,
 * node-api.ts). Requests share one keep-alive pool of at most `maxConnections` connections
 * (default 16): HTTP/1.1 carries one request per connection at a time, and a storm of 500
 * publishes without a bound opened about 350 TLS connections at once — each a handshake
 * and its buffers — where client-go multiplexes everything over one HTTP/2 connection.
 * Bounded, the same storm finished sooner and peaked about 12% lower. Watches hold their
 * connection for as long as they run, so they get a pool of their own and never take a
 * request's place.
 * It replaced @kubernetes/client-node in the driver process, whose import alone took the
 * process from 42 to 125 MiB (README "The Kubernetes API client, and what the driver loads").
 *
 * Every failure is a KubeApiError (api-error.ts). Two retry rules, as client-go:
 * - an answer of 429, or of 5xx carrying `Retry-After`, is sent again after the seconds the
 *   server asked for (capped at `maxWaitMs`), up to `maxRetries` times, whatever the verb;
 * - a read (GET) that meets a transient failure — 500, 502, 503, 504 without Retry-After,
 *   or no answer at all — is sent again up to `readRetries` times after a short jittered
 *   backoff (100 ms, then 200 ms). A read changes nothing, so resending is safe.
 * Writes that fail otherwise are the caller's to handle: the kubelet retries a failed
 * publish, the sync backs off, the watches list again, events are retried by recordEvent.
 *
 * A token file (in-cluster, or a kubeconfig's tokenFile) is re-read once a minute, as
 * client-go does, and at once after a 401 (the kubelet may have rotated it since): a 401
 * answered to an old token is sent again once with the new one.
 */
import { readFileSync } from 'node:fs';
import type * as Http from 'node:http';
import { http, https } from '../http-modules.js';
import { KubeApiError } from './api-error.js';
import type { KubeConfig } from './kube-config.js';
import { driverVersion } from '../version.js';

export interface KubeClientOptions {
  /** Most resends of one request on Retry-After; default 10, as client-go. */
  maxRetries?: number;
  /** Longest wait for one Retry-After; default 10 s. */
  maxWaitMs?: number;
  /** Resends of a read after a transient failure; default 2. */
  readRetries?: number;
  /** How long a token read from a file is used before the file is read again; default 60 s. */
  tokenFileTtlMs?: number;
  /** A request with no byte from the server for this long is abandoned; default 30 s (not watches). */
  idleTimeoutMs?: number;
  /** Most connections requests use at once (watches have their own); default 16. */
  maxConnections?: number;
  /** Called before each resend (for logs). */
  onRetry?: (info: { method: string; path: string; status: number | 'no answer'; waitMs: number; attempt: number }) => void;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Default application/json; patches name their strategy. */
  contentType?: string;
  /** What was being done, for the error message, e.g. "failed to get Secret ns/name". */
  what?: string;
  signal?: AbortSignal;
}

/** The wait a response asks for before the request may be sent again, or undefined. */
export function retryAfterMs(status: number, headers: Http.IncomingHttpHeaders, maxWaitMs: number): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  // client-go reads whole seconds only; an HTTP date or garbage is no instruction to wait.
  if (!/^\d+$/.test(value.trim())) return undefined;
  const seconds = Number(value.trim());
  if (!Number.isSafeInteger(seconds)) return undefined;
  return Math.min(seconds * 1000, maxWaitMs);
}

const transientStatus = (status: number) => status === 500 || status === 502 || status === 503 || status === 504;
/** The backoff before the n-th resend of a read (1-based): 100 ms doubling, ±50% jitter. */
const readBackoffMs = (n: number) => 100 * 2 ** (n - 1) * (0.5 + Math.random());

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function readBody(res: Http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the response was cut off')));
  });
}

/** The Status object's reason and message from an error answer's body. */
function statusOf(body: Buffer, status: number): { reason: string; message: string } {
  const text = body.toString('utf8');
  try {
    const s = JSON.parse(text) as { reason?: unknown; message?: unknown };
    return { reason: typeof s.reason === 'string' ? s.reason : '', message: typeof s.message === 'string' && s.message !== '' ? s.message : `HTTP ${status}` };
  } catch {
    return { reason: '', message: text === '' ? `HTTP ${status}` : text.slice(0, 300) };
  }
}

const networkMessage = (err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  return e.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : (e.message ?? String(err));
};

export class KubeClient {
  /** Requests' pool (bounded) and watches' (one connection per watch while it runs). */
  private readonly agent: Http.Agent;
  private readonly watchAgent: Http.Agent;
  private readonly base: URL;
  private readonly transport: typeof http | typeof https;
  private token: { value: string; readAt: number } | undefined;
  private readonly userAgent = `secrets-store-csi-driver/${driverVersion}`;

  constructor(
    readonly config: KubeConfig,
    private readonly options: KubeClientOptions = {},
  ) {
    this.base = new URL(config.server);
    const secure = this.base.protocol === 'https:';
    this.transport = secure ? https : http;
    // Keep-alive pools: requests reuse their pool's connections (and TLS sessions).
    const maxSockets = options.maxConnections ?? 16;
    const pool = (bounded: boolean) => {
      const limits = bounded ? { maxSockets, maxFreeSockets: maxSockets } : {};
      return secure
        ? new https.Agent({ keepAlive: true, ...limits, ...config.tls, ...(config.tls.servername ? { servername: config.tls.servername } : {}) })
        : new http.Agent({ keepAlive: true, ...limits });
    };
    this.agent = pool(true);
    this.watchAgent = pool(false);
  }

  /** Closes idle connections; requests in flight finish. */
  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  /** A JSON request; resolves to the parsed answer of a 2xx, throws a KubeApiError otherwise. */
  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const what = o.what ?? `${method} ${path}`;
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const maxRetries = this.options.maxRetries ?? 10;
    const readRetries = method === 'GET' ? (this.options.readRetries ?? 2) : 0;
    let resentReads = 0;
    let resentAuth = false;
    const retry = async (status: number | 'no answer', waitMs: number, attempt: number) => {
      this.options.onRetry?.({ method, path, status, waitMs, attempt });
      await sleep(waitMs, o.signal);
    };
    for (let attempt = 1; ; attempt++) {
      let res: Http.IncomingMessage;
      let answer: Buffer;
      try {
        res = await this.send(method, path, o, body, this.options.idleTimeoutMs ?? 30_000);
        answer = await readBody(res);
      } catch (err) {
        if (err instanceof KubeApiError || o.signal?.aborted || resentReads >= readRetries) throw this.unreachable(what, err);
        await retry('no answer', readBackoffMs(++resentReads), attempt);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return (answer.length === 0 ? undefined : JSON.parse(answer.toString('utf8'))) as T;
      if (status === 401 && !resentAuth && this.config.auth.tokenFile && this.tokenChanged()) {
        resentAuth = true;
        continue;
      }
      const waitMs = attempt > maxRetries ? undefined : retryAfterMs(status, res.headers, this.options.maxWaitMs ?? 10_000);
      if (waitMs !== undefined) {
        await retry(status, waitMs, attempt);
        continue;
      }
      if (transientStatus(status) && resentReads < readRetries) {
        await retry(status, readBackoffMs(++resentReads), attempt);
        continue;
      }
      const s = statusOf(answer, status);
      throw new KubeApiError(what, status, s.reason, s.message);
    }
  }

  /**
   * A watch: calls `onEvent` for each event of the stream until the server ends it
   * (resolves), the caller aborts it with `signal` (resolves) or it breaks (rejects with a
   * KubeApiError). A non-2xx answer rejects with the server's Status; a 410 (Expired) says
   * the resourceVersion is too old to resume.
   */
  async watch(path: string, query: Record<string, string | undefined>, onEvent: (e: { type: string; object: unknown }) => void, signal: AbortSignal): Promise<void> {
    const what = `failed to watch ${path}`;
    let res: Http.IncomingMessage;
    try {
      // A stream with no byte (event or bookmark) for this long is dead: the server ends a
      // watch after its timeoutSeconds and sends bookmarks about once a minute.
      const idleMs = (Number(query.timeoutSeconds ?? 300) + 60) * 1000;
      res = await this.send('GET', path, { query: { ...query, watch: '1' }, signal }, undefined, idleMs, this.watchAgent);
    } catch (err) {
      throw this.unreachable(what, err);
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const s = statusOf(await readBody(res).catch(() => Buffer.alloc(0)), status);
      throw new KubeApiError(what, status, s.reason, s.message);
    }
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() === '') continue;
          try {
            onEvent(JSON.parse(line) as { type: string; object: unknown });
          } catch (err) {
            // Settle first: destroying the stream emits its own (later) complaints.
            reject(err instanceof KubeApiError ? err : this.unreachable(what, err));
            res.destroy();
            return;
          }
        }
      });
      // Ended by the caller (its signal) is a normal end, however the stream reports it.
      const broken = (err: unknown) => (signal.aborted ? resolve() : reject(this.unreachable(what, err)));
      res.on('end', () => resolve());
      res.on('error', broken);
      res.on('aborted', () => broken(new Error('the watch stream was cut off')));
      res.on('close', () => broken(new Error('the watch stream was cut off')));
    });
  }

  private unreachable(what: string, err: unknown): KubeApiError {
    return err instanceof KubeApiError ? err : new KubeApiError(what, undefined, '', networkMessage(err), { cause: err });
  }

  /** Re-reads the token file; true when it holds another token than the one last sent. */
  private tokenChanged(): boolean {
    const before = this.token?.value;
    this.token = undefined;
    return this.bearer() !== before;
  }

  private bearer(): string | undefined {
    const { token, tokenFile } = this.config.auth;
    if (!tokenFile) return token;
    const now = Date.now();
    if (!this.token || now - this.token.readAt > (this.options.tokenFileTtlMs ?? 60_000)) {
      try {
        this.token = { value: readFileSync(tokenFile, 'utf8').trim(), readAt: now };
      } catch (err) {
        // As client-go: keep the last token when the file cannot be read for a moment.
        if (!this.token) throw new KubeApiError(`failed to read the token file ${tokenFile}`, undefined, '', (err as Error).message, { cause: err });
      }
    }
    return this.token!.value;
  }

  private send(method: string, path: string, o: RequestOptions, body: Buffer | undefined, idleMs: number, agent = this.agent): Promise<Http.IncomingMessage> {
    let search = '';
    if (o.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(o.query)) if (v !== undefined) q.set(k, v);
      const s = q.toString();
      if (s) search = `?${s}`;
    }
    const headers: Http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': this.userAgent };
    const bearer = this.bearer();
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    else if (this.config.auth.basic) headers.authorization = `Basic ${Buffer.from(`${this.config.auth.basic.username}:${this.config.auth.basic.password}`).toString('base64')}`;
    if (body) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = body.length;
    }
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port || undefined,
          path: `${this.base.pathname.replace(/\/$/, '')}${path}${search}`,
          method,
          headers,
          agent,
          ...(o.signal ? { signal: o.signal } : {}),
        },
        resolve,
      );
      req.on('error', reject);
      req.setTimeout(idleMs, () => req.destroy(new Error(`nothing heard from the API server for ${idleMs} ms`)));
      req.end(body);
    });
  }
}
