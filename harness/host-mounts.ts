/**
 * Host mounts that the harness and the simulated cluster make or clean up, apart from the
 * driver's volumes (driver/mount/): the cleanup of a test or cluster root, and a root made a
 * shared mount for containers that bind it with rshared propagation.
 */
import { execFileSync } from 'node:child_process';
import { mountsUnder } from '../driver/mount/mount-info.js';
import { unmountPath } from '../driver/mount/tmpfs-mounter.js';

/** Detaches every mount at or below `root`, deepest first: the cleanup of a test or cluster root. */
export async function unmountAllUnder(root: string): Promise<void> {
  for (const m of await mountsUnder(root)) unmountPath(m.mountPoint, true);
}

/**
 * `mount --rbind DIR DIR && mount --make-rshared DIR` (util-linux): makes DIR a mount point
 * whose mounts propagate both ways, so a container that binds it with rshared propagation
 * shares its mounts with the host (what Bidirectional propagation needs of the kubelet's
 * pods dir). Once per simulated cluster, so two short processes rather than raw syscalls.
 */
export function bindSharedMount(dir: string): void {
  for (const args of [['--rbind', dir, dir], ['--make-rshared', dir]]) {
    try {
      execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      throw new Error(`mount ${args.join(' ')} failed: ${stderr || (err as Error).message}`, { cause: err });
    }
  }
}
