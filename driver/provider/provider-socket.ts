/**
 * Where a provider's socket is: `<dir>/<provider>.sock`, searched in each of
 * `--additional-provider-volume-paths` first and then in `--provider-volume`; the first
 * that exists wins. The provider name is checked first so that `spec.provider` cannot
 * reach outside those directories.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CsiError, Status } from '../csi-error.js';

/** What `spec.provider` may be: ^[a-zA-Z0-9_-]{1,30}$, so it cannot reach outside the provider dirs. */
export const isValidProviderName = (name: string) => /^[a-zA-Z0-9_-]{1,30}$/.test(name);

export function validateProviderName(name: string): void {
  if (!isValidProviderName(name)) {
    throw new CsiError(
      Status.FAILED_PRECONDITION,
      `invalid provider name ${JSON.stringify(name)} in the SecretProviderClass: it must match ^[a-zA-Z0-9_-]{1,30}$`,
      'ProviderNotFound',
    );
  }
}

/** The socket path for `name`, or a CsiError naming every place that was searched. */
export function findProviderSocket(name: string, searchDirs: readonly string[]): string {
  validateProviderName(name);
  for (const dir of searchDirs) {
    const path = join(dir, `${name}.sock`);
    try {
      // No throw for the common miss (the first search directory rarely has it).
      if (statSync(path, { throwIfNoEntry: false })?.isSocket()) return path;
    } catch {
      // not in this directory (ENOTDIR, EACCES)
    }
  }
  throw new CsiError(
    Status.UNAVAILABLE,
    `provider ${JSON.stringify(name)} not found: no socket ${name}.sock in ${searchDirs.join(', ')}; is the ${name} provider installed and running on this node?`,
    'ProviderNotFound',
  );
}

/** The providers with a socket in any of `searchDirs` (names valid for the provider-name rule). */
export function discoverProviders(searchDirs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const dir of searchDirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.endsWith('.sock')) continue;
      const name = e.slice(0, -'.sock'.length);
      if (isValidProviderName(name)) names.add(name);
    }
  }
  return [...names].sort();
}
