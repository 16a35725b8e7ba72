/**
 * Raw HTTPS requests to the embedded API server, trusting its CA, as a test's own client:
 * JSON in and out, any token (or none), and a streaming variant for watches.
 */
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { StartedSimApiServer } from '../../sim/apiserver/api-server.js';

export interface ApiResponse {
  status: number;
  headers: { get(name: string): string | undefined };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: Record<string, any>;
  text: string;
  /** The body's bytes (for protobuf answers). */
  raw: Buffer;
}

export interface RequestOptions {
  body?: unknown;
  /** Bearer token; the admin's by default, null for none. */
  token?: string | null;
  contentType?: string;
  accept?: string;
}

function open(api: StartedSimApiServer, method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
  const token = options.token === undefined ? api.adminToken : options.token;
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.url}${path}`,
      {
        method,
        ca: api.ca,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          // With a length: Node frames a DELETE body only when told its length.
          ...(payload !== undefined ? { 'content-type': options.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...(options.accept ? { accept: options.accept } : {}),
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function apiRequest(api: StartedSimApiServer, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const res = await open(api, method, path, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const text = raw.toString('utf8');
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (e.g. /healthz)
  }
  return { status: res.statusCode ?? 0, headers: { get: (n) => res.headers[n.toLowerCase()] as string | undefined }, body, text, raw };
}

export interface WatchStream {
  status: number;
  /** Resolves with the next event (waits up to timeoutMs). */
  next(timeoutMs?: number): Promise<{ type: string; object: Record<string, any> }>;
  /** Resolves true when the server ends the stream. */
  ended(): Promise<boolean>;
  close(): void;
}

export async function apiWatch(api: StartedSimApiServer, path: string, options: RequestOptions = {}): Promise<WatchStream> {
  const res = await open(api, 'GET', path, options);
  const queue: Array<{ type: string; object: Record<string, any> }> = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  let done = false;
  res.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) queue.push(JSON.parse(line) as { type: string; object: Record<string, any> });
    }
    waiters.splice(0).forEach((w) => w());
  });
  const endPromise = new Promise<boolean>((resolve) => res.on('close', () => {
    done = true;
    waiters.splice(0).forEach((w) => w());
    resolve(true);
  }));
  return {
    status: res.statusCode ?? 0,
    async next(timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (done) throw new Error('watch ended');
        if (Date.now() > until) throw new Error(`no watch event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return queue.shift()!;
    },
    ended: () => endPromise,
    close: () => res.destroy(),
  };
}
