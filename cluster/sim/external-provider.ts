/**
 * External providers on the simulated cluster: a provider process the user started, serving
 * the v1alpha1 CSIDriverProvider API on a unix socket of their own. The sim neither starts
 * nor stops it; it links `<provider dir>/<name>.sock` on every node to that socket, where
 * each driver looks for providers (driver/provider/provider-socket.ts).
 */
import { statSync } from 'node:fs';
import { rm, symlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { ExternalProviderControl } from '../cluster.js';
import { isValidProviderName } from '../../driver/provider/provider-socket.js';

export interface ExternalProviderSpec {
  name: string;
  /** The provider's unix socket. */
  socket: string;
}

/**
 * Checks an external provider before anything starts: a valid name and an existing socket.
 * Returns the spec with the socket path made absolute (the links point to it).
 */
export function checkExternalProvider(spec: ExternalProviderSpec): ExternalProviderSpec {
  if (!isValidProviderName(spec.name)) {
    throw new Error(`invalid provider name ${JSON.stringify(spec.name)}: it must match ^[a-zA-Z0-9_-]{1,30}$ as spec.provider does`);
  }
  if (spec.socket === '') throw new Error(`provider ${spec.name}: the socket path is empty`);
  const socket = isAbsolute(spec.socket) ? spec.socket : resolve(spec.socket);
  let st;
  try {
    st = statSync(socket, { throwIfNoEntry: false });
  } catch (err) {
    throw new Error(`provider ${spec.name}: cannot stat ${socket}: ${(err as Error).message}`, { cause: err });
  }
  if (!st) throw new Error(`provider ${spec.name}: no socket at ${socket}; start the provider first (it must serve the v1alpha1 CSIDriverProvider API there)`);
  if (!st.isSocket()) throw new Error(`provider ${spec.name}: ${socket} is not a unix socket`);
  return { name: spec.name, socket };
}

/** Checks every external provider (see checkExternalProvider) and that no name is given twice. */
export function checkExternalProviders(specs: readonly ExternalProviderSpec[]): ExternalProviderSpec[] {
  const checked = specs.map(checkExternalProvider);
  const duplicate = checked.find((e, i) => checked.findIndex((x) => x.name === e.name) !== i);
  if (duplicate) throw new Error(`external provider ${duplicate.name} is given twice`);
  return checked;
}

/** Makes the provider reachable from a node's provider directory; returns the link. */
export async function linkExternalProvider(spec: ExternalProviderSpec, providerDir: string): Promise<string> {
  const link = join(providerDir, `${spec.name}.sock`);
  // A state dir used before may hold a stale link or socket of that name.
  await rm(link, { force: true });
  await symlink(spec.socket, link);
  return link;
}

/** The `ProviderControl` of an external provider on one node. */
export class ExternalProvider implements ExternalProviderControl {
  readonly external = true;

  constructor(
    readonly name: string,
    readonly socket: string,
    readonly link: string,
  ) {}

  private notManaged(): Promise<never> {
    return Promise.reject(new Error(`external provider ${this.name} is not managed by the simulated cluster`));
  }

  /** Whether its socket is there; the cluster cannot tell more about a process it does not own. */
  running(): boolean {
    try {
      return statSync(this.socket, { throwIfNoEntry: false })?.isSocket() === true;
    } catch {
      return false;
    }
  }

  start = () => this.notManaged();
  stop = () => this.notManaged();
  kill = () => this.notManaged();
  restart = () => this.notManaged();

  logs(): string {
    return '';
  }

  async rssBytes(): Promise<number | undefined> {
    return undefined;
  }
}
