/**
 * The metadata calls a publish makes to look at a target before it acts (is any component
 * a link, is it a mount point, does it hold `..data`), in two ways:
 *
 * - `threadPoolProbe`: Node's asynchronous calls, each a round trip through libuv's thread
 *   pool. Used where the target may be anything: a first publish, a volume adopted after a
 *   restart, an unpublish. A hung filesystem mounted there (a FUSE daemon gone, a dead NFS
 *   server) then stalls that one call, not the driver.
 * - `inlineProbe`: the same calls made synchronously. Used on volumes this process mounted
 *   itself (recorded): their targets are its own tmpfs, where each call is a few
 *   microseconds and cannot wait on a device (without root, the plain directories that the
 *   atomic writer already writes synchronously). A rotation pass makes five of these calls per
 *   volume; through the thread pool each cost the driver's thread about 40 µs (a wake-up,
 *   a completion and a promise), more than the call itself (measured with `--cpu-prof` on
 *   the 1000-volume rotation pass: README "Side by side with upstream").
 *
 * Both answer with promises and throw the same errors (ENOENT, ESTALE, ...), so callers
 * are written once.
 */
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';

export interface PathProbe {
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<Stats>;
  lstat(path: string): Promise<Stats>;
  readlink(path: string): Promise<string>;
}

export const threadPoolProbe: PathProbe = { realpath, stat, lstat, readlink };

export const inlineProbe: PathProbe = {
  // fs/promises' realpath is realpath(3), as realpathSync.native is (not the JS walk).
  realpath: async (path) => realpathSync.native(path),
  stat: async (path) => statSync(path),
  lstat: async (path) => lstatSync(path),
  readlink: async (path) => readlinkSync(path),
};
