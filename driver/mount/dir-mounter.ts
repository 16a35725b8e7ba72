/**
 * Plain-directory volumes for running without root (development, CI without privileges):
 * the files are written straight into the target directory. Secrets then live on the
 * backing filesystem rather than in memory; the driver logs this mode at start.
 */
import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mounter, MountOptions } from './mounter.js';
import { ownershipAt, ownershipStackAt, type Ownership } from './ownership.js';
import { threadPoolProbe, type PathProbe } from './path-probe.js';

const asForeign = (o: Ownership): Ownership => (o.kind === 'ours' ? { kind: 'foreign', fsType: 'tmpfs', source: 'tmpfs' } : o);

export class DirMounter implements Mounter {
  readonly kind = 'dir' as const;

  async mount(target: string, options: MountOptions = {}): Promise<void> {
    if (options.gid !== undefined) await chown(target, -1, options.gid);
  }

  async unmount(): Promise<boolean> {
    return false;
  }

  /** This mounter mounts nothing: any mount at a target is someone else's. */
  async ownership(target: string): Promise<Ownership> {
    return ownershipAt(target, false).then(asForeign);
  }

  async ownershipStack(target: string): Promise<Ownership[]> {
    return (await ownershipStackAt(target, false)).map(asForeign);
  }

  /** A directory volume exists once the atomic writer has published `..data` in it. */
  async isMounted(target: string, probe: PathProbe = threadPoolProbe): Promise<boolean> {
    try {
      await probe.stat(join(target, '..data'));
      return true;
    } catch {
      return false;
    }
  }
}
