/**
 * Between a Kubernetes protobuf message and the JSON shape the server stores and serves.
 * What the Go types say about JSON is carried by field options in proto/k8s (`(ptr)`,
 * `(keep)`, `(inline)`, `(json)`, see trim-upstream.ts), and a few messages have their own
 * JSON form:
 *   meta/v1 Time        ↔ RFC 3339 in seconds ("2024-01-02T03:04:05Z"); the zero time is absent
 *   meta/v1 MicroTime   ↔ RFC 3339 in microseconds ("2024-01-02T03:04:05.123456Z")
 *   resource.Quantity   ↔ its string ("100m", "64Mi")
 *   intstr.IntOrString  ↔ a number or a string
 *   meta/v1 FieldsV1    ↔ the JSON object its bytes hold (managedFields)
 *   runtime.RawExtension↔ the JSON value its bytes hold
 *   meta/v1 Duration    ↔ Go's duration string ("1m30s")
 * Bytes fields are base64 strings in JSON, maps are objects, int64s are numbers.
 *
 * Go writes every non-pointer field, zero or not, and JSON leaves a zero `omitempty` scalar
 * out: decoding drops such zeros, encoding writes them, so the bytes are Go's.
 */
import protobuf from 'protobufjs';

type Json = Record<string, unknown>;
const meta = '.k8s.io.apimachinery.pkg.apis.meta.v1';

const isPtr = (f: protobuf.Field) => f.options?.['(ptr)'] === true;
const isKept = (f: protobuf.Field) => f.options?.['(keep)'] === true;
const isInline = (f: protobuf.Field) => f.options?.['(inline)'] === true;
const jsonName = (f: protobuf.Field) => (f.options?.['(json)'] as string | undefined) ?? f.name;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function rfc3339(seconds: number, micros?: number): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micros === undefined ? `${iso}Z` : `${iso}.${pad(micros, 6)}Z`;
}

function parseTime(text: unknown, field: string): { seconds: number; nanos: number } {
  const ms = typeof text === 'string' ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new TypeError(`${field}: ${JSON.stringify(text)} is not an RFC 3339 time`);
  const frac = /\.(\d+)/.exec(text as string)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: Number((frac + '000000000').slice(0, 9)) };
}

const durationUnits: Array<[string, number]> = [['h', 3600e9], ['m', 60e9], ['s', 1e9], ['ms', 1e6], ['us', 1e3], ['µs', 1e3], ['ns', 1]];

function durationString(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let rest = Math.abs(ns);
  if (rest < 1e9) return `${sign}${rest >= 1e6 ? `${rest / 1e6}ms` : rest >= 1e3 ? `${rest / 1e3}µs` : `${rest}ns`}`;
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${rest / 1e9}s`;
}

function parseDuration(text: unknown, field: string): number {
  const s = String(text);
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/gy;
  const body = s.replace(/^-/, '');
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(body))) {
    total += Number(m[1]) * durationUnits.find(([u]) => u === m![2])![1];
    consumed = re.lastIndex;
  }
  if (consumed !== body.length || body === '') throw new TypeError(`${field}: ${JSON.stringify(text)} is not a duration such as "1m30s"`);
  return s.startsWith('-') ? -total : total;
}

const isZero = (v: unknown) => v === '' || v === 0 || v === false;

/** JSON value of a decoded message (from `Type.toObject` with longs as numbers, bytes as base64). */
function messageJson(type: protobuf.Type, v: Json): unknown {
  switch (type.fullName) {
    case `${meta}.Time`: return v.seconds || v.nanos ? rfc3339(Number(v.seconds ?? 0)) : undefined;
    case `${meta}.MicroTime`: return v.seconds || v.nanos ? rfc3339(Number(v.seconds ?? 0), Math.floor(Number(v.nanos ?? 0) / 1000)) : undefined;
    case `${meta}.Duration`: return durationString(Number(v.duration ?? 0));
    case `${meta}.FieldsV1`: return v.Raw ? JSON.parse(Buffer.from(v.Raw as string, 'base64').toString('utf8')) : undefined;
    case '.k8s.io.apimachinery.pkg.runtime.RawExtension': return v.raw ? JSON.parse(Buffer.from(v.raw as string, 'base64').toString('utf8')) : undefined;
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity': return v.string ?? '0';
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': return Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : Number(v.intVal ?? 0);
  }
  return objectJson(type, v);
}

function valueJson(f: protobuf.Field, v: unknown): unknown {
  return f.resolvedType instanceof protobuf.Type ? messageJson(f.resolvedType, v as Json) : v;
}

export function objectJson(type: protobuf.Type, decoded: Json): Json {
  const out: Json = {};
  for (const f of type.fieldsArray) {
    const v = decoded[f.name];
    if (v === undefined || v === null) continue;
    if (f.map) {
      const entries = Object.entries(v as Json);
      if (entries.length) out[jsonName(f)] = Object.fromEntries(entries.map(([k, x]) => [k, valueJson(f, x)]));
    } else if (f.repeated) {
      if ((v as unknown[]).length) out[jsonName(f)] = (v as unknown[]).map((x) => valueJson(f, x));
    } else if (isInline(f)) {
      Object.assign(out, valueJson(f, v));
    } else {
      const j = valueJson(f, v);
      if (j === undefined || (isZero(j) && !isPtr(f) && !isKept(f) && !(f.resolvedType instanceof protobuf.Type))) continue;
      out[jsonName(f)] = j;
    }
  }
  return out;
}

const scalarZero = (f: protobuf.Field): unknown => (f.type === 'string' ? '' : f.type === 'bool' ? false : f.type === 'bytes' ? Buffer.alloc(0) : 0);

function scalarMessage(f: protobuf.Field, j: unknown, path: string): unknown {
  const where = `${path}${jsonName(f)}`;
  switch (f.type) {
    case 'string':
      if (typeof j !== 'string') throw new TypeError(`${where}: expected a string, got ${JSON.stringify(j)}`);
      return j;
    case 'bool':
      if (typeof j !== 'boolean') throw new TypeError(`${where}: expected true or false, got ${JSON.stringify(j)}`);
      return j;
    case 'bytes':
      if (typeof j !== 'string') throw new TypeError(`${where}: expected base64 data, got ${JSON.stringify(j)}`);
      return Buffer.from(j, 'base64');
    default:
      if (typeof j !== 'number' || !Number.isInteger(j)) throw new TypeError(`${where}: expected an integer, got ${JSON.stringify(j)}`);
      return j;
  }
}

/** The message of a JSON value, as protobufjs encodes it (plain object). */
function messageOf(type: protobuf.Type, j: unknown, path: string): unknown {
  switch (type.fullName) {
    case `${meta}.Time`:
      return j === undefined || j === null ? {} : { seconds: parseTime(j, path).seconds, nanos: 0 };
    case `${meta}.MicroTime`: {
      if (j === undefined || j === null) return {};
      const t = parseTime(j, path);
      return { seconds: t.seconds, nanos: Math.floor(t.nanos / 1000) * 1000 };
    }
    case `${meta}.Duration`: return { duration: j === undefined || j === null ? 0 : parseDuration(j, path) };
    case `${meta}.FieldsV1`: return { Raw: Buffer.from(JSON.stringify(j ?? {})) };
    case '.k8s.io.apimachinery.pkg.runtime.RawExtension': return j === undefined || j === null ? {} : { raw: Buffer.from(JSON.stringify(j)) };
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity': return { string: j === undefined || j === null ? '0' : String(j) };
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      if (typeof j === 'string') return { type: 1, intVal: 0, strVal: j };
      if (j === undefined || j === null || (typeof j === 'number' && Number.isInteger(j))) return { type: 0, intVal: j ?? 0, strVal: '' };
      throw new TypeError(`${path}: expected an integer or a string, got ${JSON.stringify(j)}`);
  }
  if (j !== undefined && j !== null && (typeof j !== 'object' || Array.isArray(j))) throw new TypeError(`${path}: expected an object, got ${JSON.stringify(j)?.slice(0, 40)}`);
  return objectMessage(type, (j ?? {}) as Json, `${path}.`);
}

function fieldValue(f: protobuf.Field, j: unknown, path: string): unknown {
  return f.resolvedType instanceof protobuf.Type ? messageOf(f.resolvedType, j, `${path}${jsonName(f)}`) : scalarMessage(f, j, path);
}

/** The plain object protobufjs encodes for a JSON object, with Go's zero values and sorted map keys. */
export function objectMessage(type: protobuf.Type, j: Json, path = ''): Json {
  const out: Json = {};
  for (const f of type.fieldsArray) {
    if (isInline(f)) {
      out[f.name] = messageOf(f.resolvedType as protobuf.Type, j, path.replace(/\.$/, ''));
      continue;
    }
    const v = j[jsonName(f)];
    if (f.map) {
      if (v === undefined || v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${path}${jsonName(f)}: expected an object (a map), got ${JSON.stringify(v)?.slice(0, 40)}`);
      out[f.name] = Object.fromEntries(Object.keys(v).sort().map((k) => [k, fieldValue(f, (v as Json)[k], `${path}${jsonName(f)}[${k}]`)]));
    } else if (f.repeated) {
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) throw new TypeError(`${path}${jsonName(f)}: expected a list, got ${JSON.stringify(v)?.slice(0, 40)}`);
      out[f.name] = v.map((x, i) => fieldValue(f, x, `${path}${jsonName(f)}[${i}]`));
    } else if (v === undefined || v === null) {
      if (isPtr(f)) continue;
      out[f.name] = f.resolvedType instanceof protobuf.Type ? messageOf(f.resolvedType, undefined, `${path}${jsonName(f)}`) : scalarZero(f);
    } else {
      out[f.name] = fieldValue(f, v, path);
    }
  }
  return out;
}

/** Decodes `bytes` as `type` into its JSON shape. */
export function decodeJson(type: protobuf.Type, bytes: Uint8Array): Json {
  const decoded = type.toObject(type.decode(bytes), { longs: Number, bytes: String, defaults: false });
  return objectJson(type, decoded as Json);
}

/** Encodes a JSON object as `type` (a field of the wrong JSON type throws a TypeError naming it). */
export function encodeJson(type: protobuf.Type, j: Json): Uint8Array {
  return type.encode(objectMessage(type, j)).finish();
}
