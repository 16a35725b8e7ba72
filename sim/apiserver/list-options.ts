/**
 * The list and watch options a client may send beyond selectors, validated as
 * kube-apiserver validates them (apimachinery's ValidateListOptions, with the WatchList
 * feature on, as in the v1.32 the sim reports): `resourceVersionMatch` and
 * `sendInitialEvents`. A request that breaks the rules is 422 Invalid, naming each rule.
 */
import { statusError } from './status.js';

export interface ListOptions {
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
  /** Watch only: start with the current objects, then a bookmark marking their end. */
  sendInitialEvents: boolean | undefined;
  allowWatchBookmarks: boolean;
}

export const initialEventsEndAnnotation = 'k8s.io/initial-events-end';

export function listOptions(q: URLSearchParams, watch: boolean): ListOptions {
  const sendInitialEvents = q.get('sendInitialEvents');
  const options: ListOptions = {
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') || undefined,
    sendInitialEvents: sendInitialEvents === null ? undefined : sendInitialEvents === 'true',
    allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
  };
  const cont = q.get('continue');
  const errors = watch ? watchErrors(options, cont) : listErrors(options, cont);
  if (errors.length > 0) throw statusError(422, `ListOptions.meta.k8s.io "" is invalid: ${errors.join(', ')}`, 'Invalid');
  return options;
}

function listErrors(o: ListOptions, cont: string | null): string[] {
  const errors: string[] = [];
  const match = o.resourceVersionMatch;
  if (match !== undefined) {
    if (!o.resourceVersion) errors.push('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (cont) errors.push('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') errors.push(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan", ""`);
    if (match === 'Exact' && o.resourceVersion === '0') errors.push('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  if (o.sendInitialEvents !== undefined) errors.push('sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
  return errors;
}

function watchErrors(o: ListOptions, cont: string | null): string[] {
  const errors: string[] = [];
  const match = o.resourceVersionMatch;
  if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan') errors.push('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
  if (match !== undefined) {
    if (o.sendInitialEvents === undefined) errors.push('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    if (match !== 'NotOlderThan') errors.push(`resourceVersionMatch: Unsupported value: "${match}": supported values: "NotOlderThan"`);
    if (cont) errors.push('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
  }
  return errors;
}
