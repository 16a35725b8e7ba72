/**
 * tmpfs volumes through mount(2) and umount2(2), called in-process through koffi: no
 * child process per mount. Mount points are detected by device number (a tmpfs has its
 * own), which needs two stat calls and no parsing.
 */
import koffi from 'koffi';
import { constants as osConstants } from 'node:os';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { StaleMountError, type MountOptions, isStaleError, type Mounter } from './mounter.js';
import { threadPoolProbe, type PathProbe } from './path-probe.js';
import { ownershipAt, ownershipStackAt, volumeSource, type Ownership } from './ownership.js';

const MS_NOSUID = 2;
const MS_NODEV = 4;
const MNT_DETACH = 2;

interface Libc {
  mount(source: string, target: string, fstype: string, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  strerror(errnum: number): string;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
      umount2: lib.func('int umount2(const char *target, int flags)'),
      strerror: lib.func('const char *strerror(int errnum)'),
    };
  }
  return libc;
}

const errnoNames = new Map(Object.entries(osConstants.errno).map(([name, num]) => [num, name]));

/** An Error shaped like Node's own fs errors: `code` is the errno name. */
function syscallError(syscall: string, target: string): NodeJS.ErrnoException {
  const errno = koffi.errno();
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${target}: ${loadLibc().strerror(errno)}`);
  err.errno = errno;
  err.code = errnoNames.get(errno) ?? `E${errno}`;
  err.syscall = syscall;
  err.path = target;
  return err;
}

/** mount -t tmpfs -o nosuid,nodev,mode=0755 SOURCE TARGET (source: the name mountinfo shows). */
export function mountTmpfs(target: string, options = 'mode=0755', source = 'tmpfs'): void {
  if (loadLibc().mount(source, target, 'tmpfs', MS_NOSUID | MS_NODEV, options) !== 0) {
    throw syscallError('mount', target);
  }
}

/** O_PATH and O_CLOEXEC (Linux): a handle on the directory itself, for mounting on it through /proc/self/fd. */
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/**
 * Mounts a tmpfs on the directory `target` names, never through a symbolic link: the
 * directory is opened with O_NOFOLLOW (a link fails with ENOTDIR) and the mount is made on
 * that open handle, so a link swapped in after the caller's checks cannot redirect it.
 */
export function mountTmpfsNoFollow(target: string, options: string, source: string): void {
  let fd: number;
  try {
    fd = openSync(target, O_PATH | fsConstants.O_NOFOLLOW | fsConstants.O_DIRECTORY | O_CLOEXEC);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOTDIR' || e.code === 'ELOOP') e.message = `${target} is not a directory or is a symbolic link (${e.code}); refusing to mount through it`;
    throw e;
  }
  try {
    if (loadLibc().mount(source, `/proc/self/fd/${fd}`, 'tmpfs', MS_NOSUID | MS_NODEV, options) !== 0) throw syscallError('mount', target);
  } finally {
    closeSync(fd);
  }
}

/**
 * umount2(TARGET, flags): true when something was unmounted; false when TARGET is no mount
 * point (EINVAL) or does not exist (ENOENT), which count as done.
 */
export function unmountPath(target: string, detach = false): boolean {
  if (loadLibc().umount2(target, detach ? MNT_DETACH : 0) === 0) return true;
  const err = syscallError('umount2', target);
  if (err.code === 'EINVAL' || err.code === 'ENOENT') return false;
  throw err;
}

const MS_BIND = 4096;
const MS_REC = 16384;
const MS_SHARED = 1 << 20;

/**
 * mount --rbind DIR DIR && mount --make-rshared DIR: makes DIR a mount point whose mounts
 * propagate both ways, so a container that binds it with rshared propagation shares its
 * mounts with the host (what Bidirectional propagation needs of the kubelet's pods dir; the
 * simulated cluster's container runtime asks it of its root).
 */
export function bindSharedMount(dir: string): void {
  if (loadLibc().mount(dir, dir, 'none', MS_BIND | MS_REC, null) !== 0) throw syscallError('mount', dir);
  if (loadLibc().mount('none', dir, 'none', MS_SHARED | MS_REC, null) !== 0) throw syscallError('mount', dir);
}

/** True when `path` is on another device than its parent, i.e. a mount point. */
export async function isMountPoint(path: string, fs: PathProbe = threadPoolProbe): Promise<boolean> {
  let self;
  try {
    self = await fs.stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if (isStaleError(err)) throw new StaleMountError(path, err);
    throw err;
  }
  const parent = await fs.stat(dirname(path));
  return self.dev !== parent.dev || self.ino === parent.ino;
}

export class TmpfsMounter implements Mounter {
  readonly kind = 'tmpfs' as const;

  async mount(target: string, options: MountOptions = {}): Promise<void> {
    mountTmpfsNoFollow(target, options.gid === undefined ? 'mode=0755' : `mode=0755,gid=${options.gid}`, volumeSource);
  }

  async unmount(target: string): Promise<boolean> {
    // umount2 itself says whether there was a mount (EINVAL: not a mount point; ENOENT: no
    // such path), so no stat comes first. A busy mount is detached so that it disappears
    // once its last user lets go.
    try {
      return unmountPath(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
      return unmountPath(target, true);
    }
  }

  ownership(target: string, recorded: boolean): Promise<Ownership> {
    return ownershipAt(target, recorded);
  }

  ownershipStack(target: string, recorded: boolean): Promise<Ownership[]> {
    return ownershipStackAt(target, recorded);
  }

  isMounted(target: string, probe?: PathProbe): Promise<boolean> {
    return isMountPoint(target, probe);
  }
}

/** Whether this process may mount a tmpfs: tries one in `probeDir` and removes it. */
export function canMountTmpfs(probeDir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    mountTmpfs(probeDir, 'size=4k');
  } catch {
    return false;
  }
  unmountPath(probeDir, true);
  return true;
}
