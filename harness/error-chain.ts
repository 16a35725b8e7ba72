/**
 * An error's whole story on one line. undici's fetch throws `TypeError: fetch failed` and
 * puts what really happened (a connect timeout, a reset, a TLS failure) in `err.cause`, which
 * neither `message` nor `stack` shows: `describeError` follows the `cause` chain (and the
 * inner errors of an AggregateError, as a connect to several addresses throws) and names
 * each link with its `code` when it has one, e.g.
 * `TypeError: fetch failed ← ConnectTimeoutError [UND_ERR_CONNECT_TIMEOUT]: Connect Timeout Error (attempted address: 127.0.0.1:40123, timeout: 10000ms)`.
 * A link an earlier one already says (an error whose message carries its cause's, as
 * `withContext` makes) is not repeated, and the outermost error is named only when it is
 * more than a plain Error: its message is what the reader wants first.
 */

/** At most this many links are shown (a cycle or a very deep chain ends with "…"). */
const maxLinks = 6;

function link(err: unknown, outermost = false): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const coded = typeof code === 'string' || typeof code === 'number' ? ` [${code}]` : '';
  const name = err.name === 'Error' && err.constructor.name !== 'Error' ? err.constructor.name : err.name;
  const inner = err instanceof AggregateError && err.errors.length > 0 ? ` (${err.errors.map((e) => link(e)).join('; ')})` : '';
  if (outermost && name === 'Error' && !coded) return `${err.message}${inner}`;
  return `${name}${coded}: ${err.message}${inner}`;
}

export function describeError(err: unknown): string {
  const links: string[] = [];
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e !== undefined && e !== null && !seen.has(e)) {
    if (links.length === maxLinks) {
      links.push('…');
      break;
    }
    seen.add(e);
    const text = link(e, links.length === 0 && e === err);
    if (!links.some((l) => l.includes(text))) links.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  return links.join(' ← ');
}

/** `err` wrapped with what was being done; the message carries the whole chain, `cause` the original. */
export function withContext(what: string, err: unknown): Error {
  return new Error(`${what}: ${describeError(err)}`, { cause: err });
}
