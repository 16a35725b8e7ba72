/**
 * Authentication by bearer token and RBAC authorization, as a real API server does them for
 * the requests the simulated cluster sees. Identities are registered with a token; rules
 * come from the ClusterRole and ClusterRoleBinding objects in the store (the kind/manifests
 * RBAC files are applied at start), so editing a ClusterRole through the API changes what
 * its subjects may do at once. Members of `system:masters` may do everything.
 */
import { randomBytes } from 'node:crypto';
import type { KubeObject, ObjectStore } from './object-store.js';
import { statusError, type ApiError } from './status.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

export interface AccessRequest {
  verb: string;
  group: string;
  /** `pods`, or `pods/status` for a subresource. */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
}

/** A request for a non-resource URL (`/healthz`, `/api`), as an access review may ask about one. */
export interface NonResourceRequest {
  verb: string;
  path: string;
}

export interface Decision {
  allowed: boolean;
  /** Why, as the authorizer says it ("" when it says nothing). */
  reason: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

export const adminUser: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

const matches = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);
const privilegedGroup = 'system:masters';

interface Grant {
  rule: PolicyRule;
  subject: Subject;
  binding: { name: string; role: string };
}

/** rbac's RuleAllows: resource rules match verb, group, resource (`pods/log` for a subresource, or a star-slash-subresource rule) and name; URL rules match the path exactly or by a trailing `*`. */
function ruleAllows(r: PolicyRule, req: AccessRequest | NonResourceRequest): boolean {
  if ('path' in req) {
    return matches(r.verbs, req.verb) && (r.nonResourceURLs ?? []).some((u) => u === '*' || u === req.path || (u.endsWith('*') && req.path.startsWith(u.slice(0, -1))));
  }
  const sub = req.resource.split('/')[1];
  const resourceMatches = (r.resources ?? []).some((x) => x === '*' || x === req.resource || (sub !== undefined && x === `*/${sub}`));
  return matches(r.verbs, req.verb) && matches(r.apiGroups, req.group) && resourceMatches && (!r.resourceNames?.length || (req.name !== undefined && r.resourceNames.includes(req.name)));
}

/** A subject as the RBAC authorizer's reason names it. */
function subjectText(s: Subject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount "${s.name}/${s.namespace}"` : `${s.kind} "${s.name}"`;
}

export class Authorizer {
  private readonly tokens = new Map<string, UserInfo>();
  private grantsByUser: Map<string, Grant[]> | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.onEvent((e) => {
      if (e.plural === 'clusterroles' || e.plural === 'clusterrolebindings') this.grantsByUser = undefined;
    });
  }

  /** Registers `user` and returns its bearer token (a random one unless given). */
  addIdentity(user: UserInfo, token = randomBytes(24).toString('base64url')): string {
    this.tokens.set(token, { name: user.name, groups: [...user.groups] });
    return token;
  }

  /** The user a request's Authorization header names, or a 401 Status. */
  authenticate(authorization: string | undefined): UserInfo {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const user = m ? this.tokens.get(m[1]!) : undefined;
    if (!user) throw statusError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  private subjectMatches(s: Subject, user: UserInfo): boolean {
    if (s.kind === 'User') return s.name === user.name;
    if (s.kind === 'Group') return user.groups.includes(s.name);
    return user.name === `system:serviceaccount:${s.namespace}:${s.name}`;
  }

  private grantsFor(user: UserInfo): Grant[] {
    this.grantsByUser ??= new Map();
    const cacheKey = `${user.name}\0${user.groups.join('\0')}`;
    const cached = this.grantsByUser.get(cacheKey);
    if (cached) return cached;
    const roles = new Map(this.store.list('clusterroles').map((r: KubeObject) => [r.metadata.name!, (r.rules as PolicyRule[] | undefined) ?? []]));
    const grants: Grant[] = [];
    for (const b of this.store.list('clusterrolebindings')) {
      const subjects = (b.subjects as Subject[] | undefined) ?? [];
      const roleRef = b.roleRef as { kind: string; name: string } | undefined;
      const subject = subjects.find((s) => this.subjectMatches(s, user));
      if (roleRef?.kind !== 'ClusterRole' || !subject) continue;
      for (const rule of roles.get(roleRef.name) ?? []) grants.push({ rule, subject, binding: { name: b.metadata.name!, role: roleRef.name } });
    }
    this.grantsByUser.set(cacheKey, grants);
    return grants;
  }

  allowed(user: UserInfo, req: AccessRequest): boolean {
    return this.decide(user, req).allowed;
  }

  /**
   * The decision and the reason RBAC gives for it: members of `system:masters` may do
   * everything (no reason, as the privileged-group authorizer); otherwise the first
   * binding whose role has a matching rule, named as the RBAC authorizer names it.
   */
  decide(user: UserInfo, req: AccessRequest | NonResourceRequest): Decision {
    if (user.groups.includes(privilegedGroup)) return { allowed: true, reason: '' };
    const hit = this.grantsFor(user).find((g) => ruleAllows(g.rule, req));
    if (!hit) return { allowed: false, reason: '' };
    const b = hit.binding;
    return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${b.name}" of ClusterRole "${b.role}" to ${subjectText(hit.subject)}` };
  }

  /** The rules that apply to `user` (what a SelfSubjectRulesReview lists). */
  rulesOf(user: UserInfo): PolicyRule[] {
    if (user.groups.includes(privilegedGroup)) return [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }];
    return this.grantsFor(user).map((g) => g.rule);
  }

  /** A 403 Status worded as kube-apiserver words it. */
  forbidden(user: UserInfo, req: AccessRequest, qualified: string): ApiError {
    const scope = req.namespace ? `in the namespace "${req.namespace}"` : 'at the cluster scope';
    const what = req.name ? `${qualified} "${req.name}"` : qualified;
    return statusError(
      403,
      `${what} is forbidden: User "${user.name}" cannot ${req.verb} resource "${req.resource}" in API group "${req.group}" ${scope}`,
      'Forbidden',
      { ...(req.name ? { name: req.name } : {}), group: req.group, kind: req.resource.split('/')[0]! },
    );
  }

  stop(): void {
    this.unsubscribe();
  }
}
