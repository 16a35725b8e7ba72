/**
 * A list-then-watch of one selected collection, as client-go's reflector: list, then watch
 * from the list's resourceVersion with bookmarks (`allowWatchBookmarks`), resume from the
 * last resourceVersion seen (an event's or a bookmark's) when a stream ends or breaks, list
 * again only when the server says that version is gone (410 Expired), and back off after
 * errors (0.5 s doubling to 30 s, reset once a watch delivers). Handlers hear of an object
 * when it is new or its resourceVersion moved, and of its removal — including objects that
 * vanished while no watch was open, found by comparing a relist with what was known.
 */
import type { Logger } from '../../log/logger.js';
import { KubeApiError } from './api-error.js';
import type { KubeClient } from './kube-client.js';

export interface WatchHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
}

interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListWatchOptions<T> {
  client: KubeClient;
  /** The collection, e.g. /api/v1/pods. */
  path: string;
  selector: { labelSelector?: string; fieldSelector?: string };
  convert: (o: never) => T;
  handlers: WatchHandlers<T>;
  logger: Logger;
  /** Backoff after the first failure; default 500 ms (doubling, at most 30 s). */
  initialBackoffMs?: number;
}

const keyOf = (o: Meta) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Starts the list-watch; returns stop. */
export function startListWatch<T>(o: ListWatchOptions<T>): () => void {
  const known = new Map<string, { rv: string; obj: T }>();
  const abort = new AbortController();
  let resourceVersion: string | undefined;
  let failures = 0;
  const initialBackoff = o.initialBackoffMs ?? 500;

  const upsert = (raw: Meta) => {
    const key = keyOf(raw);
    const rv = raw.metadata?.resourceVersion ?? '';
    const had = known.get(key);
    if (had && had.rv === rv && rv !== '') return;
    const obj = o.convert(raw as never);
    known.set(key, { rv, obj });
    o.handlers.upsert(obj);
  };
  const remove = (raw: Meta) => {
    const key = keyOf(raw);
    const had = known.get(key);
    known.delete(key);
    o.handlers.remove(had?.obj ?? o.convert(raw as never));
  };

  const list = async () => {
    const answer = await o.client.request<{ metadata?: { resourceVersion?: string }; items?: Meta[] }>('GET', o.path, {
      query: { ...o.selector },
      what: `failed to list ${o.path}`,
      signal: abort.signal,
    });
    const seen = new Set<string>();
    for (const item of answer.items ?? []) {
      seen.add(keyOf(item));
      upsert(item);
    }
    for (const [key, { obj }] of [...known]) {
      if (seen.has(key)) continue;
      known.delete(key);
      o.handlers.remove(obj);
    }
    resourceVersion = answer.metadata?.resourceVersion;
  };

  const watch = () =>
    o.client.watch(
      o.path,
      {
        ...o.selector,
        resourceVersion,
        allowWatchBookmarks: 'true',
        // As client-go: a random 5–10 minutes, so that the watches of many nodes do not
        // end and reconnect together.
        timeoutSeconds: String(300 + Math.floor(Math.random() * 300)),
      },
      (e) => {
        const obj = e.object as Meta & { code?: number; reason?: string; message?: string };
        if (e.type === 'ERROR') {
          throw new KubeApiError(`watch of ${o.path} ended`, obj.code, obj.reason ?? '', obj.message ?? 'ERROR event');
        }
        failures = 0;
        if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
        if (e.type === 'ADDED' || e.type === 'MODIFIED') upsert(obj);
        else if (e.type === 'DELETED') remove(obj);
      },
      abort.signal,
    );

  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        if (resourceVersion === undefined) await list();
        const started = Date.now();
        await watch();
        // The server ends a watch after its timeoutSeconds; one that ends at once is a
        // server (or proxy) refusing to stream: do not spin on it.
        if (Date.now() - started < 1000) throw new Error('the watch stream ended as soon as it began');
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof KubeApiError && err.status === 410) {
          // The version we would resume from is compacted away: list again, at once.
          o.logger.info({ path: o.path, err: err.message }, 'watch resourceVersion expired; listing again');
          resourceVersion = undefined;
          continue;
        }
        const delay = Math.min(30_000, initialBackoff * 2 ** failures++);
        o.logger.warn({ path: o.path, err: (err as Error).message, retryInMs: delay }, 'watch failed; resuming after a backoff');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    }
  };
  void run();
  return () => abort.abort();
}
