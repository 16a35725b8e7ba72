/**
 * Request bodies in Kubernetes' protobuf encoding, as client-go sends them for built-in
 * kinds (controller-runtime's client does so by default; upstream's driver creates synced
 * Secrets that way). The wire format: the magic `k8s\0`, then a `runtime.Unknown` holding the
 * TypeMeta and the object's own message. We decode the kinds a CSI driver writes into the
 * JSON shape the rest of the server works with (and the DeleteOptions of a delete); any other kind is 415 with what to send
 * instead. Responses stay JSON: client-go asks for `protobuf, *\/*` and decodes by the
 * response's Content-Type. Field numbers are those of k8s.io/api and apimachinery's
 * generated.proto (v1.30).
 */
import protobuf from 'protobufjs';
import type { KubeObject } from './object-store.js';
import { statusError } from './status.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

const schema = protobuf.parse(`
syntax = "proto2";
package sim;
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message OwnerReference { optional string kind = 1; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional bool controller = 6; optional bool blockOwnerDeletion = 7; }
message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3; optional string selfLink = 4;
  optional string uid = 5; optional string resourceVersion = 6; optional int64 generation = 7;
  optional Time creationTimestamp = 8; optional Time deletionTimestamp = 9; optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11; map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14;
}
message Secret { optional ObjectMeta metadata = 1; map<string, bytes> data = 2; optional string type = 3; map<string, string> stringData = 4; optional bool immutable = 5; }
message ObjectReference { optional string kind = 1; optional string namespace = 2; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional string resourceVersion = 6; optional string fieldPath = 7; }
message EventSource { optional string component = 1; optional string host = 2; }
message EventSeries { optional int32 count = 1; optional Time lastObservedTime = 2; }
message Event {
  optional ObjectMeta metadata = 1; optional ObjectReference involvedObject = 2; optional string reason = 3; optional string message = 4;
  optional EventSource source = 5; optional Time firstTimestamp = 6; optional Time lastTimestamp = 7; optional int32 count = 8;
  optional string type = 9; optional Time eventTime = 10; optional EventSeries series = 11; optional string action = 12;
  optional ObjectReference related = 13; optional string reportingComponent = 14; optional string reportingInstance = 15;
}
message Preconditions { optional string uid = 1; optional string resourceVersion = 2; }
message DeleteOptions { optional int64 gracePeriodSeconds = 1; optional Preconditions preconditions = 2; optional bool orphanDependents = 3; optional string propagationPolicy = 4; repeated string dryRun = 5; }
`).root;

const unknownType = schema.lookupType('sim.Unknown');
/** The kinds whose protobuf bodies we decode (core/v1), and where their timestamps are. */
const kinds: Record<string, { type: protobuf.Type; times: string[]; microTimes: string[] }> = {
  Secret: { type: schema.lookupType('sim.Secret'), times: [], microTimes: [] },
  Event: { type: schema.lookupType('sim.Event'), times: ['firstTimestamp', 'lastTimestamp'], microTimes: ['eventTime', 'series.lastObservedTime'] },
  DeleteOptions: { type: schema.lookupType('sim.DeleteOptions'), times: [], microTimes: [] },
};
const metaTimes = ['metadata.creationTimestamp', 'metadata.deletionTimestamp'];
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === protobufMediaType;
}

/** metav1.Time is RFC 3339 in seconds, MicroTime in microseconds. */
function timeString(t: { seconds?: number; nanos?: number }, micro: boolean): string {
  const iso = new Date((t.seconds ?? 0) * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor((t.nanos ?? 0) / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

function convertTime(o: Record<string, unknown>, path: string, micro: boolean): void {
  const keys = path.split('.');
  let parent: Record<string, unknown> | undefined = o;
  for (const k of keys.slice(0, -1)) parent = parent?.[k] as Record<string, unknown> | undefined;
  const last = keys.at(-1)!;
  const t = parent?.[last] as { seconds?: number; nanos?: number } | undefined;
  if (parent && t && typeof t === 'object') parent[last] = timeString(t, micro);
}

function dropEmptyStrings(o: unknown): void {
  if (Array.isArray(o)) return o.forEach(dropEmptyStrings);
  if (!o || typeof o !== 'object') return;
  const rec = o as Record<string, unknown>;
  for (const [k, v] of Object.entries(rec)) {
    if (v === '') delete rec[k];
    else dropEmptyStrings(v);
  }
}

/** The object in a protobuf body, in its JSON shape; 400 for a malformed body, 415 for a kind we do not decode. */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw statusError(400, 'the body of the request could not be decoded: a protobuf body starts with the magic "k8s\\x00"');
  }
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    envelope = unknownType.toObject(unknownType.decode(body.subarray(magic.length))) as typeof envelope;
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
  const kind = envelope.typeMeta?.kind ?? '';
  const known = kinds[kind];
  if (!known) {
    throw statusError(415, `the simulated API server decodes protobuf bodies only for ${Object.keys(kinds).join(', ')} (got kind ${JSON.stringify(kind)}): send application/json`, 'UnsupportedMediaType');
  }
  let object: Record<string, unknown>;
  try {
    object = known.type.toObject(known.type.decode(envelope.raw ?? new Uint8Array()), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded as a ${kind}: ${(err as Error).message}`);
  }
  // Go's protobuf encoding writes every non-pointer field, empty or not; its JSON leaves
  // such fields out (omitempty). Drop what JSON would not carry.
  dropEmptyStrings(object);
  const meta = object.metadata as Record<string, unknown> | undefined;
  if (meta?.generation === 0) delete meta.generation;
  for (const p of [...metaTimes, ...known.times]) convertTime(object, p, false);
  for (const p of known.microTimes) convertTime(object, p, true);
  // Empty maps and lists are absent in JSON, as the real server's JSON encoding leaves them out.
  return { apiVersion: envelope.typeMeta?.apiVersion ?? 'v1', kind, ...object, ...(kind === 'DeleteOptions' ? {} : { metadata: object.metadata ?? {} }) } as KubeObject;
}
