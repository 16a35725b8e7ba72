/**
 * The review kinds, answered rather than stored, as kube-apiserver answers them:
 * - authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`),
 *   SubjectAccessReview, LocalSubjectAccessReview: may this user do this? — decided by the
 *   sim's RBAC (authorizer.ts), with the reason RBAC gives;
 * - SelfSubjectRulesReview (`kubectl auth can-i --list`): the rules that apply in a namespace;
 * - authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`) and TokenReview.
 * Each is a create (201) whose response is the request with its status filled in.
 */
import type { AccessRequest, Authorizer, NonResourceRequest, UserInfo } from './authorizer.js';
import { decodeReview } from './access-review-protobuf.js';
import { protobufMediaType } from './protobuf/codec.js';
import { apiVersionOf, type ResourceKind } from './resources.js';
import { statusError } from './status.js';

export const reviewGroups = ['authorization.k8s.io', 'authentication.k8s.io'];

/** Whether `r` is a review kind (served here, never stored). */
export const isReview = (r: ResourceKind): boolean => reviewGroups.includes(r.group);

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}
interface NonResourceAttributes {
  path?: string;
  verb?: string;
}
interface ReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  namespace?: string;
  token?: string;
  audiences?: string[];
}

function parseBody(body: Buffer, contentType: string | undefined): { kind?: string; apiVersion?: string; spec?: ReviewSpec } {
  if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() === protobufMediaType) return decodeReview(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw statusError(400, 'the body of the request must be a JSON object');
  return parsed as { kind?: string; spec?: ReviewSpec };
}

/** A 422 Status for a review, worded as the validation of the real kinds words it. */
const invalid = (kind: string, field: string, detail: string) => statusError(422, `${kind}.authorization.k8s.io "" is invalid: ${field}: ${detail}`, 'Invalid', { group: 'authorization.k8s.io', kind });

function attributesOf(kind: string, spec: ReviewSpec): AccessRequest | NonResourceRequest {
  const ra = spec.resourceAttributes;
  const na = spec.nonResourceAttributes;
  if (!ra === !na) throw invalid(kind, 'spec.resourceAttributes', `Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`);
  if (na) return { verb: na.verb ?? '', path: na.path ?? '' };
  return {
    verb: ra!.verb ?? '',
    group: ra!.group ?? '',
    resource: ra!.subresource ? `${ra!.resource ?? ''}/${ra!.subresource}` : (ra!.resource ?? ''),
    namespace: ra!.namespace || undefined,
    name: ra!.name || undefined,
  };
}

function accessStatus(authorizer: Authorizer, user: UserInfo, request: AccessRequest | NonResourceRequest) {
  const d = authorizer.decide(user, request);
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/** The rules of `user` in `namespace`, shaped as a SelfSubjectRulesReview's status. */
function rulesStatus(authorizer: Authorizer, user: UserInfo) {
  const resourceRules = [];
  const nonResourceRules = [];
  for (const r of authorizer.rulesOf(user)) {
    if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs });
    else resourceRules.push({ verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) });
  }
  return { resourceRules, nonResourceRules, incomplete: false };
}

export interface ReviewContext {
  resource: ResourceKind;
  version: string;
  namespace: string | undefined;
  user: UserInfo;
  authorizer: Authorizer;
}

/** The answered review for a create of `ctx.resource` with `body` (201 Created, nothing stored). */
export function answerReview(ctx: ReviewContext, body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const r = ctx.resource;
  const request = parseBody(body, contentType);
  if (request.kind !== undefined && request.kind !== r.kind) throw statusError(400, `the kind of the object (${request.kind}) does not match the resource (${r.kind})`);
  const spec: ReviewSpec = request.spec ?? {};
  const head = { kind: r.kind, apiVersion: apiVersionOf(r, ctx.version), metadata: { creationTimestamp: null } };
  const { user, authorizer } = ctx;
  switch (r.kind) {
    case 'SelfSubjectAccessReview':
      return { ...head, spec, status: accessStatus(authorizer, user, attributesOf(r.kind, spec)) };
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      if (!spec.user && !spec.groups?.length) throw invalid(r.kind, 'spec.user', 'Invalid value: "": at least one of user or group must be specified');
      const attributes = attributesOf(r.kind, spec);
      if (r.kind === 'LocalSubjectAccessReview' && (!('namespace' in attributes) || attributes.namespace !== ctx.namespace)) {
        throw invalid(r.kind, 'spec.resourceAttributes.namespace', `Invalid value: "${spec.resourceAttributes?.namespace ?? ''}": must match metadata.namespace`);
      }
      const subject: UserInfo = { name: spec.user ?? '', groups: spec.groups ?? [] };
      return { ...head, ...(ctx.namespace ? { metadata: { ...head.metadata, namespace: ctx.namespace } } : {}), spec, status: accessStatus(authorizer, subject, attributes) };
    }
    case 'SelfSubjectRulesReview':
      if (!spec.namespace) throw invalid(r.kind, 'spec.namespace', 'Required value');
      return { ...head, spec, status: rulesStatus(authorizer, user) };
    case 'SelfSubjectReview':
      return { ...head, status: { userInfo: { username: user.name, groups: user.groups } } };
    case 'TokenReview': {
      let reviewed: UserInfo | undefined;
      try {
        reviewed = authorizer.authenticate(`Bearer ${spec.token ?? ''}`);
      } catch {
        reviewed = undefined;
      }
      const status = reviewed
        ? { authenticated: true, user: { username: reviewed.name, groups: reviewed.groups }, audiences: spec.audiences ?? ['https://kubernetes.default.svc.cluster.local'] }
        : { user: {}, error: 'invalid bearer token' };
      return { ...head, spec, status };
    }
  }
  throw statusError(404, `the server could not find the requested resource (${r.plural})`, 'NotFound');
}
