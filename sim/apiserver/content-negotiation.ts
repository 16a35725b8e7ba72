/**
 * Content negotiation as kube-apiserver does it. Responses: the client's Accept list, best
 * quality first, picks JSON, YAML or protobuf (protobuf only for kinds with a schema in
 * proto/k8s; custom resources are JSON and YAML only, as on a real server); an Accept none
 * of whose entries the server can produce is 406 NotAcceptable. Requests: the body's
 * Content-Type must be one the resource decodes, else 415 UnsupportedMediaType. Both
 * errors are Status objects naming the media types that would work.
 */
import type { ServerResponse } from 'node:http';
import { stringify } from 'yaml';
import { canEncode, encodeObject, protobufMediaType } from './protobuf/codec.js';
import { statusError } from './status.js';

export type Format = 'json' | 'yaml' | 'protobuf';

const mediaTypes: Record<Format, string> = { json: 'application/json', yaml: 'application/yaml', protobuf: protobufMediaType };
/** kube-apiserver's order of the media types it lists in 406/415 messages. */
const order: Format[] = ['json', 'yaml', 'protobuf'];

const listed = (protobuf: boolean) => order.filter((f) => protobuf || f !== 'protobuf').map((f) => mediaTypes[f]).join(', ');

interface Clause {
  type: string;
  q: number;
  as: string | undefined;
}

function parseAccept(accept: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    let q = 1;
    let as: string | undefined;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k === 'q') q = Number(v);
      else if (k === 'as') as = v;
    }
    if (q > 0) clauses.push({ type: type.toLowerCase(), q: Number.isNaN(q) ? 0 : q, as });
  }
  // Stable: equal qualities keep the client's order.
  return clauses.sort((a, b) => b.q - a.q);
}

/**
 * The format of the response to a request with this Accept header. `protobufServed` says
 * whether the resource has a protobuf form (asked only when a client names protobuf, so
 * JSON clients never load the schemas). Watches pass `streaming`: they are JSON streams.
 */
export function negotiateOutput(accept: string | undefined, protobufServed: () => boolean, streaming = false): Format {
  if (!accept || accept === 'application/json' || accept === '*/*') return 'json';
  for (const c of parseAccept(accept)) {
    // `as=Table` (server-side printing) is answered as JSON; other conversions are not served in protobuf.
    if (c.type === '*/*' || c.type === 'application/*' || c.type === 'application/json') return 'json';
    if (c.type === 'application/yaml' && !streaming && !c.as) return 'yaml';
    if (c.type === protobufMediaType && !streaming && !c.as && protobufServed()) return 'protobuf';
  }
  const formats = streaming ? 'application/json' : listed(protobufServed());
  throw statusError(406, `only the following media types are accepted: ${formats}`, 'NotAcceptable');
}

/**
 * The format of a request body; 415 for a Content-Type the resource does not decode.
 * `missingSchema` names a built-in kind the real server decodes from protobuf but the sim
 * has no schema for (the 415 then says so).
 */
export function requestFormat(contentType: string | undefined, protobufServed: () => boolean, missingSchema?: () => string | undefined): Format {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/json') return 'json';
  if (type === 'application/yaml') return 'yaml';
  if (type === protobufMediaType && protobufServed()) return 'protobuf';
  const kind = type === protobufMediaType ? missingSchema?.() : undefined;
  if (kind) throw statusError(415, `the simulated API server has no protobuf schema for kind ${kind} (proto/k8s): send application/json instead`, 'UnsupportedMediaType');
  throw statusError(415, `the body of the request was in an unknown format - accepted media types include: ${listed(protobufServed())}`, 'UnsupportedMediaType');
}

/** Writes `body` in `format`; an object without a protobuf schema (a Table) goes out as JSON. */
export function writeBody(res: ServerResponse, code: number, body: unknown, format: Format, headers: Record<string, string>): void {
  let bytes: Buffer;
  let type: string;
  if (format === 'protobuf' && canEncode(body as { apiVersion?: unknown; kind?: unknown })) {
    bytes = encodeObject(body as Record<string, unknown>);
    type = protobufMediaType;
  } else if (format === 'yaml') {
    bytes = Buffer.from(stringify(body));
    type = 'application/yaml';
  } else {
    bytes = Buffer.from(JSON.stringify(body));
    type = 'application/json';
  }
  res.writeHead(code, { 'content-type': type, 'content-length': bytes.length, ...headers }).end(bytes);
}
