import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MountMode } from '../flags.js';
import { DirMounter } from './dir-mounter.js';
import type { Mounter } from './mounter.js';
import { TmpfsMounter, canMountTmpfs } from './tmpfs-mounter.js';

/**
 * `tmpfs` and `dir` are taken as asked; `auto` picks tmpfs when a probe mount succeeds
 * (root on Linux with CAP_SYS_ADMIN) and plain directories otherwise.
 */
export async function selectMounter(mode: MountMode): Promise<Mounter> {
  if (mode === 'dir') return new DirMounter();
  const probe = await mkdtemp(join(tmpdir(), 'sscsi-mount-probe-'));
  try {
    const ok = canMountTmpfs(probe);
    if (ok) return new TmpfsMounter();
    if (mode === 'tmpfs') {
      throw new Error('--mount-mode=tmpfs needs root on Linux with CAP_SYS_ADMIN; run as root or use --mount-mode=dir');
    }
    return new DirMounter();
  } finally {
    await rmdir(probe).catch(() => {});
  }
}
