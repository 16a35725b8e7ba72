/**
 * The protobuf bodies kubectl sends for the review kinds (`kubectl auth can-i`, `auth
 * whoami` and client-go's typed clients send `application/vnd.kubernetes.protobuf`),
 * decoded into their JSON shape, out of the envelope every protobuf body has
 * (protobuf/envelope.ts); field numbers are those of k8s.io/api authorization/v1 and authentication/v1
 * generated.proto. Only what a review request carries is decoded (its metadata is
 * ignored: reviews are not stored).
 */
import protobuf from 'protobufjs';
import { openEnvelope } from './protobuf/envelope.js';
import { statusError } from './status.js';

const schema = protobuf.parse(`
syntax = "proto2";
package review;
message ExtraValue { repeated string items = 1; }
message FieldSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message FieldSelectorAttributes { optional string rawSelector = 1; repeated FieldSelectorRequirement requirements = 2; }
message LabelSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message LabelSelectorAttributes { optional string rawSelector = 1; repeated LabelSelectorRequirement requirements = 2; }
message ResourceAttributes {
  optional string namespace = 1; optional string verb = 2; optional string group = 3; optional string version = 4;
  optional string resource = 5; optional string subresource = 6; optional string name = 7;
  optional FieldSelectorAttributes fieldSelector = 8; optional LabelSelectorAttributes labelSelector = 9;
}
message NonResourceAttributes { optional string path = 1; optional string verb = 2; }
message SelfSubjectAccessReviewSpec { optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; }
message SubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2;
  optional string user = 3; repeated string groups = 4; map<string, ExtraValue> extra = 5; optional string uid = 6;
}
message SelfSubjectRulesReviewSpec { optional string namespace = 1; }
message TokenReviewSpec { optional string token = 1; repeated string audiences = 2; }
message SelfSubjectAccessReview { optional bytes metadata = 1; optional SelfSubjectAccessReviewSpec spec = 2; }
message SubjectAccessReview { optional bytes metadata = 1; optional SubjectAccessReviewSpec spec = 2; }
message SelfSubjectRulesReview { optional bytes metadata = 1; optional SelfSubjectRulesReviewSpec spec = 2; }
message SelfSubjectReview { optional bytes metadata = 1; }
message TokenReview { optional bytes metadata = 1; optional TokenReviewSpec spec = 2; }
`).root;

const reviewTypes: Record<string, string> = {
  SelfSubjectAccessReview: 'SelfSubjectAccessReview',
  SubjectAccessReview: 'SubjectAccessReview',
  LocalSubjectAccessReview: 'SubjectAccessReview',
  SelfSubjectRulesReview: 'SelfSubjectRulesReview',
  SelfSubjectReview: 'SelfSubjectReview',
  TokenReview: 'TokenReview',
};

/** Go's protobuf writes empty strings and lists that its JSON leaves out: drop them. */
function dropEmpty(o: unknown): void {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (v === '' || (Array.isArray(v) && v.length === 0)) delete (o as Record<string, unknown>)[k];
    else dropEmpty(v);
  }
}

/** A review request's JSON shape from its protobuf body; 400 for a malformed body, 415 for another kind. */
export function decodeReview(body: Buffer): Record<string, unknown> {
  try {
    const envelope = openEnvelope(body);
    const kind = envelope.kind;
    const typeName = reviewTypes[kind];
    if (!typeName) throw statusError(415, `a review request must be one of ${Object.keys(reviewTypes).join(', ')} (got kind ${JSON.stringify(kind)})`, 'UnsupportedMediaType');
    const type = schema.lookupType(`review.${typeName}`);
    const object = type.toObject(type.decode(envelope.raw), { defaults: false, arrays: false }) as Record<string, unknown>;
    delete object.metadata;
    const extra = (object.spec as { extra?: Record<string, { items?: string[] }> } | undefined)?.extra;
    if (extra) (object.spec as Record<string, unknown>).extra = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.items ?? []]));
    dropEmpty(object);
    return { apiVersion: envelope.apiVersion, kind, ...object };
  } catch (err) {
    if ((err as { status?: unknown }).status) throw err;
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}
