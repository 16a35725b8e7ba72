/**
 * `--provider NAME=SOCKET_PATH`: a provider the user runs, serving the v1alpha1
 * CSIDriverProvider API on SOCKET_PATH. Parsed and checked (name rule, the socket exists and
 * is a socket) before anything starts, so a mistake is one line and exit code 2.
 */
import { resolve } from 'node:path';
import { isValidProviderName } from '../driver/provider/provider-socket.js';
import { checkExternalProviders, type ExternalProviderSpec } from '../cluster/sim/external-provider.js';

/**
 * NAME and SOCKET_PATH (absolute) of one `--provider` value, the name checked, the socket
 * not: with `--provider-cmd` it appears once the harness has started the provider.
 */
export function splitProviderFlag(value: string): ExternalProviderSpec {
  const eq = value.indexOf('=');
  if (eq < 0) throw new Error(`--provider ${JSON.stringify(value)}: expected NAME=SOCKET_PATH, e.g. --provider vault=/run/vault/provider.sock`);
  const name = value.slice(0, eq);
  if (!isValidProviderName(name)) throw new Error(`invalid provider name ${JSON.stringify(name)}: it must match ^[a-zA-Z0-9_-]{1,30}$ as spec.provider does`);
  const socket = value.slice(eq + 1);
  if (socket === '') throw new Error(`provider ${name}: the socket path is empty`);
  return { name, socket: resolve(socket) };
}

/** The specs of every `--provider` value, or an Error saying what is wrong with one. */
export function parseProviderFlags(values: readonly string[]): ExternalProviderSpec[] {
  return checkExternalProviders(values.map(splitProviderFlag));
}
