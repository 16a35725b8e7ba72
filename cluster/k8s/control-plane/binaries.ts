/**
 * Where the Kubernetes component binaries are: `.peers/bin/<name>`, built by `npm run peers`
 * (or copied there from a warm build). A missing one is an error that names it and says what
 * to run, so a test can skip with that message and `k8s up` can stop with it.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../driver/version.js';

export type ComponentBinary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet' | 'kubectl';

export type BinaryLookup = { path: string; missing?: undefined } | { missing: string; path?: undefined };

/** The path of component `name`, or why it cannot be used. */
export function componentBinary(name: ComponentBinary, root = packageRoot()): BinaryLookup {
  const path = join(root, '.peers', 'bin', name);
  try {
    accessSync(path, constants.X_OK);
    return { path };
  } catch {
    return { missing: `${name} not found at ${path}: run \`npm run peers\` to build it` };
  }
}

/** The first missing binary among `names` (a skip or error message), or undefined when all are there. */
export function missingBinary(names: readonly ComponentBinary[], root = packageRoot()): string | undefined {
  for (const name of names) {
    const found = componentBinary(name, root);
    if (found.missing) return found.missing;
  }
  return undefined;
}

/** The path of component `name`; throws the missing reason. */
export function requireBinary(name: ComponentBinary, root = packageRoot()): string {
  const found = componentBinary(name, root);
  if (found.missing !== undefined) throw new Error(found.missing);
  return found.path;
}
