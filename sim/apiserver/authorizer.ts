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

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
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

export class Authorizer {
  private readonly tokens = new Map<string, UserInfo>();
  private rulesByUser: Map<string, PolicyRule[]> | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.onEvent((e) => {
      if (e.plural === 'clusterroles' || e.plural === 'clusterrolebindings') this.rulesByUser = undefined;
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

  private rulesFor(user: UserInfo): PolicyRule[] {
    this.rulesByUser ??= new Map();
    const cached = this.rulesByUser.get(user.name);
    if (cached) return cached;
    const roles = new Map(this.store.list('clusterroles').map((r: KubeObject) => [r.metadata.name!, (r.rules as PolicyRule[] | undefined) ?? []]));
    const rules: PolicyRule[] = [];
    for (const b of this.store.list('clusterrolebindings')) {
      const subjects = (b.subjects as Subject[] | undefined) ?? [];
      const roleRef = b.roleRef as { kind: string; name: string } | undefined;
      if (roleRef?.kind !== 'ClusterRole' || !subjects.some((s) => this.subjectMatches(s, user))) continue;
      rules.push(...(roles.get(roleRef.name) ?? []));
    }
    this.rulesByUser.set(user.name, rules);
    return rules;
  }

  allowed(user: UserInfo, req: AccessRequest): boolean {
    if (user.groups.includes('system:masters')) return true;
    return this.rulesFor(user).some(
      (r) =>
        matches(r.verbs, req.verb) &&
        matches(r.apiGroups, req.group) &&
        matches(r.resources, req.resource) &&
        (!r.resourceNames?.length || (req.name !== undefined && r.resourceNames.includes(req.name))),
    );
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
