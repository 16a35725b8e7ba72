/**
 * Taking a volume down (NodeUnpublishVolume, and the cleanup of a failed first mount): the
 * driver unmounts only its own tmpfs (mount/ownership.ts) and removes only what the atomic
 * writer's layout accounts for (fileutil/target-layout.ts), then the then-empty target
 * directory. Whatever else it finds stays where it is, and the answer says why.
 */
import { lstat, rmdir } from 'node:fs/promises';
import { CsiError, Status } from './csi-error.js';
import { classifyEntries, listTarget, removeEntries } from './fileutil/target-layout.js';
import type { Mounter } from './mount/mounter.js';
import { describeForeign } from './mount/ownership.js';
import { findSymlink } from './mount/target-path.js';

/**
 * `absent`: nothing at the path; `not-a-volume`: something the driver did not make (not
 * mounted, no `..data`), left untouched; `removed`: the volume is gone.
 */
export type RemoveOutcome = 'absent' | 'not-a-volume' | 'removed';

const refused = (message: string) => new CsiError(Status.FAILED_PRECONDITION, message, 'FailedToUnmount');

const shownList = (names: string[]) => names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');

/**
 * Takes down the volume at `targetPath`. `recorded`: the driver holds a record of it.
 * Throws a FAILED_PRECONDITION CsiError when it leaves something behind: a symbolic link in
 * the path, a mount that is not the driver's, entries the atomic writer did not make.
 */
export async function removeVolume(mounter: Mounter, targetPath: string, recorded: boolean): Promise<RemoveOutcome> {
  const link = await findSymlink(targetPath);
  if (link) {
    throw refused(`target path ${targetPath} goes through the symbolic link ${link.path} -> ${link.to}; this driver never makes a volume through a link, so nothing there is its own: left in place`);
  }
  try {
    await lstat(targetPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  // Peel the driver's own mounts, topmost first (a crashed publish may have stacked two);
  // stop at anyone else's. One look at the mount table decides for the whole stack.
  let unmounted = false;
  for (const owner of await mounter.ownershipStack(targetPath, recorded)) {
    if (owner.kind === 'foreign') {
      throw refused(`${targetPath} is ${describeForeign(owner)}, not a volume this driver mounted: left mounted${unmounted ? ' (the driver\'s own tmpfs above it was unmounted)' : ''}`);
    }
    if (!(await mounter.unmount(targetPath))) break;
    unmounted = true;
  }
  // The common case: what is left is the empty directory (the tmpfs held the files). One rmdir.
  try {
    await rmdir(targetPath);
    return 'removed';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'removed';
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
  }
  const st = await lstat(targetPath).catch(() => undefined);
  if (!st) return 'removed';
  if (!st.isDirectory()) return unmounted ? 'removed' : 'not-a-volume';
  const entries = await listTarget(targetPath);
  const isVolume = unmounted || entries.length === 0 || entries.some((e) => e.name === '..data' && e.type === 'symlink');
  if (!isVolume) return 'not-a-volume';
  const { layout, extras } = classifyEntries(entries);
  await removeEntries(targetPath, layout);
  if (extras.length > 0) {
    throw refused(
      `${targetPath} holds ${extras.length} entr${extras.length === 1 ? 'y' : 'ies'} the driver did not write (${shownList(extras)}): ` +
        `${unmounted ? 'the volume was unmounted and ' : ''}the driver's own files were removed, these were left in place; remove them if they are not needed`,
    );
  }
  try {
    await rmdir(targetPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return 'removed';
}
