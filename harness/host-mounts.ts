/**
 * The cleanup of the mounts under a test or cluster root, apart from the driver's own
 * unmount of its volumes (driver/mount/).
 */
import { mountsUnder } from '../driver/mount/mount-info.js';
import { unmountPath } from '../driver/mount/tmpfs-mounter.js';

/** Detaches every mount at or below `root`, deepest first: the cleanup of a test or cluster root. */
export async function unmountAllUnder(root: string): Promise<void> {
  for (const m of await mountsUnder(root)) unmountPath(m.mountPoint, true);
}
