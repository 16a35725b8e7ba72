/**
 * `--provider NAME=SOCKET_PATH`: a provider the user runs, serving the v1alpha1
 * CSIDriverProvider API on SOCKET_PATH. Parsed and checked (name rule, the socket exists and
 * is a socket) before anything starts, so a mistake is one line and exit code 2.
 */
import { checkExternalProviders, type ExternalProviderSpec } from '../cluster/sim/external-provider.js';

/** The specs of every `--provider` value, or an Error saying what is wrong with one. */
export function parseProviderFlags(values: readonly string[]): ExternalProviderSpec[] {
  return checkExternalProviders(
    values.map((value) => {
      const eq = value.indexOf('=');
      if (eq < 0) throw new Error(`--provider ${JSON.stringify(value)}: expected NAME=SOCKET_PATH, e.g. --provider vault=/run/vault/provider.sock`);
      return { name: value.slice(0, eq), socket: value.slice(eq + 1) };
    }),
  );
}
