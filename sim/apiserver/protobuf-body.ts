/**
 * Request bodies in `application/vnd.kubernetes.protobuf`, as kube-apiserver takes them:
 * controller-runtime's client (upstream's driver writes Secrets with it) sends built-in
 * kinds that way. The body is the magic `k8s\0` and a runtime.Unknown {typeMeta, raw}
 * whose `raw` is the object in the field numbers of k8s.io/api's generated.proto. The sim
 * decodes the kinds a driver writes (Secret); any other protobuf body is 415, which is what
 * kube-apiserver answers for a media type a resource does not take.
 */
import protobuf from 'protobufjs';
import type { KubeObject } from './object-store.js';
import { statusError } from './status.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

const schema = `
syntax = "proto2";
package k8s;
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message OwnerReference { optional string apiVersion = 5; optional string kind = 1; optional string name = 3; optional string uid = 4; optional bool controller = 6; optional bool blockOwnerDeletion = 7; }
message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3; optional string selfLink = 4;
  optional string uid = 5; optional string resourceVersion = 6; optional int64 generation = 7;
  optional Time creationTimestamp = 8; optional Time deletionTimestamp = 9; optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11; map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14;
}
message Secret { optional ObjectMeta metadata = 1; optional bool immutable = 5; map<string, bytes> data = 2; map<string, string> stringData = 4; optional string type = 3; }
`;

const root = protobuf.parse(schema, { keepCase: true }).root;
const unknownType = root.lookupType('k8s.Unknown');
const kinds: Record<string, protobuf.Type> = { Secret: root.lookupType('k8s.Secret') };
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const rfc3339 = (t: { seconds?: string | number } | undefined) => (t?.seconds !== undefined ? new Date(Number(t.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined);

/** The object a protobuf body carries, in the JSON shape the store keeps. */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) throw statusError(400, 'the body of the request could not be decoded: not a Kubernetes protobuf envelope (no k8s\\0 prefix)');
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  try {
    envelope = unknownType.toObject(unknownType.decode(body.subarray(magic.length))) as typeof envelope;
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
  const kind = envelope.typeMeta?.kind ?? '';
  const type = kinds[kind];
  if (!type) throw statusError(415, `the body of the request was in an unknown format - protobuf is taken for ${Object.keys(kinds).join(', ')}, not ${JSON.stringify(kind)}; send application/json`, 'UnsupportedMediaType');
  if (envelope.contentEncoding) throw statusError(415, `content encoding ${JSON.stringify(envelope.contentEncoding)} is not supported`, 'UnsupportedMediaType');
  const msg = type.toObject(type.decode(envelope.raw ?? new Uint8Array()), { longs: String, bytes: String, defaults: false }) as Record<string, unknown>;
  const meta = (msg.metadata ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = { ...meta };
  for (const t of ['creationTimestamp', 'deletionTimestamp'] as const) {
    if (meta[t] !== undefined) metadata[t] = rfc3339(meta[t] as { seconds?: string });
  }
  if (meta.generation !== undefined) metadata.generation = Number(meta.generation);
  if (meta.deletionGracePeriodSeconds !== undefined) metadata.deletionGracePeriodSeconds = Number(meta.deletionGracePeriodSeconds);
  for (const m of ['labels', 'annotations'] as const) if (metadata[m] && Object.keys(metadata[m] as object).length === 0) delete metadata[m];
  for (const r of ['ownerReferences', 'finalizers'] as const) if (Array.isArray(metadata[r]) && (metadata[r] as unknown[]).length === 0) delete metadata[r];
  const obj: Record<string, unknown> = { ...msg, apiVersion: envelope.typeMeta?.apiVersion, kind, metadata };
  for (const m of ['data', 'stringData'] as const) if (obj[m] && Object.keys(obj[m] as object).length === 0) delete obj[m];
  return obj as KubeObject;
}
