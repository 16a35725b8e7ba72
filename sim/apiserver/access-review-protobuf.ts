/**
 * The protobuf bodies kubectl sends for the review kinds (`kubectl auth can-i`, `auth
 * whoami` and client-go's typed clients send `application/vnd.kubernetes.protobuf`),
 * decoded into their JSON shape, out of the envelope every protobuf body has
 * (protobuf/envelope.ts), with the authorization/v1 and authentication/v1 messages of
 * proto/k8s. Only what a review request carries is kept (its metadata is dropped: reviews
 * are not stored). Answers stay JSON: these kinds are not in the codec's packages
 * (protobuf/k8s-schema.ts), so content negotiation never picks protobuf for them.
 */
import { openEnvelope } from './protobuf/envelope.js';
import { k8sRoot } from './protobuf/k8s-schema.js';
import { statusError } from './status.js';

/** The protobuf package (proto/k8s) of each review kind. */
const reviewPackages: Record<string, string> = {
  SelfSubjectAccessReview: 'k8s.io.api.authorization.v1',
  SubjectAccessReview: 'k8s.io.api.authorization.v1',
  LocalSubjectAccessReview: 'k8s.io.api.authorization.v1',
  SelfSubjectRulesReview: 'k8s.io.api.authorization.v1',
  SelfSubjectReview: 'k8s.io.api.authentication.v1',
  TokenReview: 'k8s.io.api.authentication.v1',
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
    const pkg = reviewPackages[kind];
    if (!pkg) throw statusError(415, `a review request must be one of ${Object.keys(reviewPackages).join(', ')} (got kind ${JSON.stringify(kind)})`, 'UnsupportedMediaType');
    const type = k8sRoot().lookupType(`${pkg}.${kind}`);
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
