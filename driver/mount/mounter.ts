/**
 * The filesystem boundary of a volume: what makes a target directory a volume and what
 * undoes it. Two implementations: a real tmpfs through mount(2) (root on Linux), and plain
 * directories for unprivileged use. Both keep secrets only where the kubelet looks for them.
 */
import type { Ownership } from './ownership.js';
import type { PathProbe } from './path-probe.js';

export type MountKind = 'tmpfs' | 'dir';

export interface MountOptions {
  gid?: number | undefined;
}

export interface Mounter {
  readonly kind: MountKind;
  /**
   * Makes the existing directory `target` a fresh volume; with `gid` (the pod's fsGroup)
   * the volume's root is group-owned by it. `target` itself must not be a symbolic link
   * (the mount is made on the directory opened without following one).
   */
  mount(target: string, options?: MountOptions): Promise<void>;
  /**
   * Undoes one `mount`: unmounts the topmost mount at `target` (detached when busy). False
   * when nothing is mounted there. The caller checks first that it is ours (`ownership`).
   */
  unmount(target: string): Promise<boolean>;
  /** Whose the topmost mount at `target` is; `recorded`: the driver holds a record of it. */
  ownership(target: string, recorded: boolean): Promise<Ownership>;
  /** Whose each mount at `target` is, topmost first, from one look at the mount table. */
  ownershipStack(target: string, recorded: boolean): Promise<Ownership[]>;
  /**
   * Whether `target` currently holds a volume. Throws a `StaleMountError` when the target
   * is a mount point that can no longer be read (the caller unmounts and starts fresh).
   * `probe`: how to look (path-probe.ts); by default through the thread pool.
   */
  isMounted(target: string, probe?: PathProbe): Promise<boolean>;
}

export class StaleMountError extends Error {
  constructor(target: string, cause: unknown) {
    super(`mount point ${target} is not readable (${(cause as Error).message})`, { cause });
    this.name = 'StaleMountError';
  }
}

const staleCodes = new Set(['ENOTCONN', 'ESTALE', 'EIO', 'EHOSTDOWN']);

export function isStaleError(err: unknown): boolean {
  return staleCodes.has((err as NodeJS.ErrnoException).code ?? '');
}
