/**
 * List pagination as kube-apiserver does it from etcd: with `limit` on a consistent read
 * (no resourceVersion) or an exact one, a page of at most `limit` items in key order
 * (namespace/name) and, when more remain, an opaque `continue` token and
 * `remainingItemCount` (left out with selectors, as the real server does). A `continue`
 * token carries the version of the first page and the last key served; the sim keeps no old
 * states, so the next pages come from the current one. Reads from the watch cache
 * (resourceVersion "0", or a version with NotOlderThan) ignore `limit`, as there.
 */
import type { KubeObject } from './object-store.js';
import { statusError } from './status.js';

export interface PageRequest {
  limit: number | undefined;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
  /** Selectors filter the items: no remainingItemCount then. */
  selected: boolean;
}

export interface Page {
  items: KubeObject[];
  /** The list's metadata: resourceVersion, and continue/remainingItemCount when more remain. */
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

interface Token {
  v: string;
  rv: number;
  start: string;
}

function decode(token: string): Token {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Token;
    if (t.v !== 'meta.k8s.io/v1' || !Number.isInteger(t.rv) || typeof t.start !== 'string') throw new Error('unexpected fields');
    return t;
  } catch (err) {
    throw statusError(400, `continue key is not valid: ${(err as Error).message}`);
  }
}

const encode = (t: Token) => Buffer.from(JSON.stringify(t)).toString('base64url');

export function pageOf(all: KubeObject[], req: PageRequest, currentRv: string): Page {
  let items = all;
  let rv = currentRv;
  if (req.continueToken) {
    if (req.resourceVersion) throw statusError(400, 'specifying resource version is not allowed when using continue');
    const t = decode(req.continueToken);
    rv = String(t.rv);
    // Keys after the last one served: start is that key with a NUL appended, as upstream's token does.
    items = all.filter((o) => keyOf(o).localeCompare(t.start) > 0);
  } else {
    const fromCache = req.resourceVersion !== undefined && req.resourceVersion !== '' && req.resourceVersionMatch !== 'Exact';
    if (fromCache) return { items, metadata: { resourceVersion: rv } };
  }
  const limit = req.limit;
  if (limit === undefined || limit <= 0 || items.length <= limit) return { items, metadata: { resourceVersion: rv } };
  const page = items.slice(0, limit);
  const last = keyOf(page.at(-1)!);
  return {
    items: page,
    metadata: {
      resourceVersion: rv,
      continue: encode({ v: 'meta.k8s.io/v1', rv: Number(rv), start: `${last}\u0000` }),
      ...(req.selected ? {} : { remainingItemCount: items.length - limit }),
    },
  };
}
