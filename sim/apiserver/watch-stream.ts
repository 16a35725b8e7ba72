/**
 * A watch as kube-apiserver streams it: HTTP 200, then one JSON event per line
 * (`{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}`). Without a
 * resourceVersion (or with "0") the current objects come first as ADDED; with one, the
 * events after it are replayed from the history, or a 410 `Expired` ERROR event ends the
 * stream when they are no longer kept. With `allowWatchBookmarks`, a BOOKMARK every second
 * carries the current resourceVersion in an otherwise empty object of the watched kind.
 * With `sendInitialEvents` (WatchList) the current objects come first, then a bookmark that
 * marks their end. With selectors, an object that stops matching is
 * sent as DELETED and one that starts matching as ADDED, as the real cacher does.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject, ObjectStore, StoreEvent } from './object-store.js';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from './selectors.js';
import { initialEventsEndAnnotation } from './list-options.js';
import type { ApiError } from './status.js';

export interface WatchOptions {
  plural: string;
  namespace: string | undefined;
  name: string | undefined;
  resourceVersion: string | undefined;
  /**
   * Start with the current objects as ADDED, then (bookmarks being required with it) a
   * BOOKMARK annotated `k8s.io/initial-events-end: "true"`, whatever the resourceVersion:
   * the current state is "not older than" any version a client can hold. Explicitly false:
   * no initial events, only changes (after `resourceVersion`, or from now).
   */
  sendInitialEvents: boolean | undefined;
  labelSelector: LabelSelector | undefined;
  fieldSelector: FieldSelector | undefined;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
  /** The watched resource's kind: a BOOKMARK carries an object of that kind. */
  kind: string;
  /** Rewrites an object for the version the client asked for. */
  serve(o: KubeObject): KubeObject;
}

export function streamWatch(store: ObjectStore, res: ServerResponse, opts: WatchOptions, onClose: (close: () => void) => () => void): void {
  const inScope = (e: { plural: string; object: KubeObject }) =>
    e.plural === opts.plural &&
    (opts.namespace === undefined || e.object.metadata.namespace === opts.namespace) &&
    (opts.name === undefined || e.object.metadata.name === opts.name);
  const selected = (o: KubeObject) =>
    (!opts.labelSelector || matchesLabels(opts.labelSelector, o.metadata.labels)) && (!opts.fieldSelector || matchesFields(opts.fieldSelector, o));

  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  // At once, as kube-apiserver does: a client's Watch() returns on the headers, before any event.
  res.flushHeaders();
  const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);

  const known = new Set<string>();
  const deliver = (e: StoreEvent) => {
    if (!inScope(e)) return;
    const uid = e.object.metadata.uid!;
    if (e.type === 'DELETED') {
      if (known.delete(uid) || selected(e.object)) send('DELETED', opts.serve(e.object));
    } else if (selected(e.object)) {
      send(known.has(uid) ? 'MODIFIED' : 'ADDED', opts.serve(e.object));
      known.add(uid);
    } else if (known.delete(uid)) {
      send('DELETED', opts.serve(e.object));
    }
  };

  const rv = opts.resourceVersion;
  let backlog: StoreEvent[] = [];
  const fromNow = opts.sendInitialEvents === false && (rv === undefined || rv === '' || rv === '0');
  if (fromNow) {
    for (const o of store.list(opts.plural, { namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector })) known.add(o.metadata.uid!);
  } else if (opts.sendInitialEvents === true || rv === undefined || rv === '' || rv === '0') {
    for (const o of store.list(opts.plural, { namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector })) {
      if (opts.name !== undefined && o.metadata.name !== opts.name) continue;
      send('ADDED', opts.serve(o));
      known.add(o.metadata.uid!);
    }
  } else {
    const from = Number(rv);
    try {
      if (!Number.isInteger(from) || from < 0) throw Object.assign(new Error('bad rv'), { badRv: true });
      backlog = store.eventsSince(from);
    } catch (err) {
      const status = (err as ApiError).status ?? {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `invalid resource version: ${rv}`, reason: 'BadRequest', code: 400,
      };
      send('ERROR', status);
      res.end();
      return;
    }
    // Objects that matched at `rv` are "known" so that later changes are MODIFIED, not ADDED.
    const seen = new Set(backlog.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.uid));
    for (const o of store.list(opts.plural, { namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector })) {
      if (!seen.has(o.metadata.uid)) known.add(o.metadata.uid!);
    }
    for (const e of backlog) if (e.type === 'DELETED') known.add(e.object.metadata.uid!);
  }
  let lastRevision = Number(store.resourceVersion);
  if (opts.sendInitialEvents === true) {
    send('BOOKMARK', opts.serve({ kind: opts.kind, metadata: { resourceVersion: String(lastRevision), annotations: { [initialEventsEndAnnotation]: 'true' } } }));
  }
  const unsubscribe = store.onEvent((e) => {
    lastRevision = e.revision;
    deliver(e);
  });
  for (const e of backlog) deliver(e);

  let bookmarkTimer: NodeJS.Timeout | undefined;
  if (opts.allowBookmarks) {
    // As kube-apiserver sends it: an object of the watched kind and version holding only the
    // resourceVersion (clients decode it with the watched type; there is no kind "Bookmark").
    bookmarkTimer = setInterval(() => send('BOOKMARK', opts.serve({ kind: opts.kind, metadata: { resourceVersion: String(lastRevision) } })), 1000);
    bookmarkTimer.unref();
  }
  let timeout: NodeJS.Timeout | undefined;
  const close = () => {
    unsubscribe();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeout) clearTimeout(timeout);
    deregister();
    if (!res.writableEnded) res.end();
  };
  const deregister = onClose(close);
  if (opts.timeoutSeconds !== undefined && opts.timeoutSeconds > 0) timeout = setTimeout(close, opts.timeoutSeconds * 1000);
  res.on('close', close);
}
