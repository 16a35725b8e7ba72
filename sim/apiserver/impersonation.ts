/**
 * User impersonation as kube-apiserver's impersonation filter does it: a request carrying
 * `Impersonate-User` (and optionally `Impersonate-Group`, `Impersonate-Uid`,
 * `Impersonate-Extra-<key>`) is served as that user, if the authenticated one may
 * `impersonate` each of them (users, groups, serviceaccounts, uids, userextras/<key>).
 * `system:serviceaccount:<ns>:<name>` is checked as the ServiceAccount and, without
 * impersonated groups, gets the service account groups; every impersonated user but
 * `system:anonymous` is in `system:authenticated`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessRequest, Authorizer, UserInfo } from './authorizer.js';
import { statusError } from './status.js';

const serviceAccountPrefix = 'system:serviceaccount:';

function headerValues(headers: NodeJS.Dict<string[]>, name: string): string[] {
  return (headers[name] ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The user a request is served as: `user` itself, or whom its impersonation headers name. */
export function impersonatedUser(user: UserInfo, headers: NodeJS.Dict<string[]> | IncomingHttpHeaders, authorizer: Authorizer): UserInfo {
  const distinct = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v === undefined ? [] : Array.isArray(v) ? v : [v]]));
  const name = headerValues(distinct, 'impersonate-user')[0];
  const groups = headerValues(distinct, 'impersonate-group');
  const uid = headerValues(distinct, 'impersonate-uid')[0];
  const extras = Object.keys(distinct).filter((k) => k.startsWith('impersonate-extra-'));
  if (name === undefined) {
    if (groups.length > 0 || uid !== undefined || extras.length > 0) {
      throw statusError(400, `requested ${groups.length > 0 ? 'group' : uid !== undefined ? 'uid' : 'user extra'} impersonation without impersonating a user`, 'BadRequest');
    }
    return user;
  }
  const checks: AccessRequest[] = [];
  let impersonated: UserInfo;
  if (name.startsWith(serviceAccountPrefix) && name.split(':').length === 4) {
    const [, , namespace, sa] = name.split(':') as [string, string, string, string];
    checks.push({ verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace, name: sa });
    impersonated = { name, groups: groups.length > 0 ? [...groups] : ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
  } else {
    checks.push({ verb: 'impersonate', group: '', resource: 'users', namespace: undefined, name });
    impersonated = { name, groups: [...groups] };
  }
  for (const g of groups) checks.push({ verb: 'impersonate', group: '', resource: 'groups', namespace: undefined, name: g });
  if (uid !== undefined) checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', namespace: undefined, name: uid });
  for (const k of extras) {
    for (const v of distinct[k] ?? []) checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', resource: `userextras/${k.slice('impersonate-extra-'.length)}`, namespace: undefined, name: v });
  }
  for (const check of checks) {
    if (!authorizer.allowed(user, check)) throw authorizer.forbidden(user, check, check.group === '' ? check.resource : `${check.resource}.${check.group}`);
  }
  const always = name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated';
  if (!impersonated.groups.includes(always)) impersonated.groups.push(always);
  return impersonated;
}
