/**
 * The Kubernetes projected-volume atomic writer. Layout inside the target directory:
 *
 *   ..2026_11_22_10_04_05.Ab12Cd/   the payload (0755), one per write
 *   ..data -> ..2026_11_22_10_04_05.Ab12Cd
 *   db-password -> ..data/db-password   one user-visible symlink per top-level entry
 *
 * A write lays the new payload out in a fresh timestamped directory, points `..data_tmp`
 * at it and renames that over `..data` (one atomic rename), then adds the user-visible
 * links that are new, removes those that vanished, and removes the old directory. A reader
 * that opens `name` sees the old set or the new one, never a mix.
 *
 * Files whose bytes and mode did not change are hard-linked from the old directory into
 * the new one, so they keep their inode and mtime; a payload with no change at all is not
 * written. Paths are validated before anything is written (payload.ts).
 *
 * The writer uses synchronous filesystem calls on purpose: on tmpfs each is a few
 * microseconds and never waits on a disk, while an asynchronous call costs a thread-pool
 * round trip each. Callers serialize writes per target directory.
 */
import {
  chmodSync,
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  chownSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import { join, posix } from 'node:path';
import { buildPayload, type FileProjection, type Payload, type ProvidedFile } from './payload.js';

const dataDirName = '..data';

let umaskRead: number | undefined;

/**
 * The bits the process umask clears, read at the first write (the driver never changes its
 * umask): a file whose mode has none of them needs no chmod after creation, which saves a
 * syscall per file. Read from /proc/self/status, which changes nothing; only where that has
 * no `Umask:` line (kernels before 4.7, other systems) by setting it and restoring it at once.
 */
function umaskBits(): number {
  if (umaskRead === undefined) {
    let line: RegExpExecArray | null = null;
    try {
      line = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    } catch {
      // no procfs
    }
    if (line) umaskRead = parseInt(line[1]!, 8);
    else {
      umaskRead = process.umask(0o022);
      process.umask(umaskRead);
    }
  }
  return umaskRead;
}
const newDataDirName = '..data_tmp';

export interface WriteResult {
  /** False when the payload equalled what was there and nothing was written. */
  changed: boolean;
  /** Paths whose bytes or mode changed, appeared or vanished. */
  changedPaths: string[];
}

function timestampPrefix(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

/**
 * Files below `dir`, as slash-separated relative paths: one readdir per directory. (Node's
 * `readdirSync(dir, { recursive: true })` took about 45 µs for a flat payload of 10 files,
 * this 11 µs; it stood out in the 1000-volume rotation profile.)
 */
function listFiles(dir: string, prefix = '', out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) out.push(prefix + e.name);
    else if (e.isDirectory()) listFiles(join(dir, e.name), `${prefix}${e.name}/`, out);
  }
  return out;
}

/**
 * Whether the regular file at `path` has `file`'s mode and bytes: one open, one fstat, and
 * a read only when the size matches (listFiles only lists regular files, and payload dirs
 * hold nothing else).
 */
function sameFile(path: string, file: FileProjection): boolean {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o777) !== file.mode || st.size !== file.data.byteLength) return false;
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) return false;
      off += n;
    }
    return Buffer.compare(buf, file.data) === 0;
  } finally {
    closeSync(fd);
  }
}

function topLevel(path: string): string {
  const i = path.indexOf('/');
  return i === -1 ? path : path.slice(0, i);
}

export interface WriteOptions {
  /**
   * The pod's fsGroup (CSI volume_mount_group): every directory, file and link written is
   * group-owned by it, and files are made group-readable, so non-root containers can read.
   */
  gid?: number | undefined;
  now?: Date;
}

/**
 * A fresh payload directory `..<timestamp>.<random>` (0755), like mkdtemp but in one
 * syscall. The suffix need only differ, not be secret (only root writes here, and a clash
 * is retried): Math.random costs well under a microsecond, crypto's randomBytes about 5.
 */
function makePayloadDir(targetDir: string, now: Date): string {
  const prefix = timestampPrefix(now);
  for (let attempt = 0; ; attempt++) {
    const dir = join(targetDir, prefix + Math.random().toString(36).slice(2, 8).padEnd(6, '0'));
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 5) continue;
      throw err;
    }
    if ((0o755 & umaskBits()) !== 0) chmodSync(dir, 0o755);
    return dir;
  }
}

/**
 * Writes `payload` into `targetDir` atomically (see the module comment). An unchanged
 * payload costs a look at `..data`, a read of each file and one listing of the target (to
 * find user-visible links a killed write left out); a write lists the target once
 * and takes every later decision (which user-visible links exist, which payload dirs to
 * remove) from that listing, so it costs one syscall per file and link and no failing
 * lookups.
 */
export function writeAtomically(targetDir: string, payload: Payload, options: WriteOptions = {}): WriteResult {
  const now = options.now ?? new Date();
  const gid = options.gid;
  const own = (path: string, link = false) => {
    if (gid !== undefined) (link ? lchownSync : chownSync)(path, -1, gid);
  };
  if (gid !== undefined) {
    for (const file of payload.values()) file.mode |= 0o040;
  }
  const dataLink = join(targetDir, dataDirName);
  const oldTsName = lstatSync(dataLink, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(dataLink) : null;
  const oldTsDir = oldTsName === null ? null : join(targetDir, oldTsName);
  const oldPaths = new Set(oldTsDir === null ? [] : listFiles(oldTsDir));

  // Which files are unchanged (same bytes, same mode) and can be carried over.
  const unchanged = new Set<string>();
  if (oldTsDir !== null) {
    for (const [path, file] of payload) {
      if (!oldPaths.has(path)) continue;
      const oldPath = join(oldTsDir, path);
      if (sameFile(oldPath, file)) unchanged.add(path);
    }
  }
  const changedPaths = [
    ...[...payload.keys()].filter((p) => !unchanged.has(p)),
    ...[...oldPaths].filter((p) => !payload.has(p)),
  ].sort();
  // What the target holds now: which user-visible links exist, which payload dirs to remove.
  const entries = new Map(readdirSync(targetDir, { withFileTypes: true }).map((e) => [e.name, e]));
  const newTop = new Set([...payload.keys()].map(topLevel));
  if (oldTsDir !== null && changedPaths.length === 0) {
    // Unchanged content, but a write killed between the swap and the end of step 3 (a
    // driver killed mid-publish) left user-visible links out, or left the links of vanished
    // entries dangling: the payload is there, the pod would not see it as it is. Mend the
    // links; nothing else is rewritten.
    const missing = [...newTop].filter((name) => !entries.get(name)?.isSymbolicLink());
    const dangling = [...entries.values()]
      .filter((e) => e.isSymbolicLink() && !e.name.startsWith('..') && !newTop.has(e.name) && readlinkSync(join(targetDir, e.name)) === posix.join(dataDirName, e.name))
      .map((e) => e.name);
    if (missing.length === 0 && dangling.length === 0) return { changed: false, changedPaths };
    addLinks(targetDir, missing, entries, own);
    for (const name of dangling) rmSync(join(targetDir, name), { force: true });
    return { changed: true, changedPaths: [...missing, ...dangling].sort() };
  }

  // 1. The new payload in a fresh timestamped directory.
  const tsDir = makePayloadDir(targetDir, now);
  own(tsDir);
  const tsName = posix.basename(tsDir);
  try {
    for (const [path, file] of payload) {
      const dest = join(tsDir, path);
      if (path.includes('/')) {
        const first = mkdirSync(join(dest, '..'), { recursive: true, mode: 0o755 });
        if (first !== undefined && gid !== undefined) {
          for (let d = join(dest, '..'); d.length >= first.length; d = join(d, '..')) own(d);
        }
      }
      if (unchanged.has(path)) {
        linkSync(join(oldTsDir!, path), dest);
      } else {
        writeFileSync(dest, file.data, { mode: file.mode, flag: 'wx' });
        if ((file.mode & umaskBits()) !== 0) chmodSync(dest, file.mode); // the umask cleared bits
        own(dest);
      }
    }
    // 2. The atomic swap.
    const tmpLink = join(targetDir, newDataDirName);
    if (entries.has(newDataDirName)) rmSync(tmpLink, { recursive: true, force: true });
    symlinkSync(tsName, tmpLink);
    own(tmpLink, true);
    renameSync(tmpLink, join(targetDir, dataDirName));
  } catch (err) {
    rmSync(tsDir, { recursive: true, force: true });
    throw err;
  }

  // 3. User-visible links: add the new top-level entries (replacing anything at that name
  // that is not a link, which only a hand edit can leave), drop the vanished ones.
  addLinks(targetDir, [...newTop].filter((name) => !entries.get(name)?.isSymbolicLink()), entries, own);
  for (const name of new Set([...oldPaths].map(topLevel))) {
    if (!newTop.has(name)) rmSync(join(targetDir, name), { force: true });
  }

  // 4. The old payload, and any payload dir a crashed write left behind.
  for (const name of entries.keys()) {
    if (name.startsWith('..') && name !== dataDirName && name !== newDataDirName && name !== tsName) {
      rmSync(join(targetDir, name), { recursive: true, force: true });
    }
  }
  return { changed: true, changedPaths };
}

/** Adds the user-visible links `names` (replacing anything there that is not a link, which only a hand edit can leave). */
function addLinks(targetDir: string, names: readonly string[], entries: ReadonlyMap<string, Dirent>, own: (path: string, link?: boolean) => void): void {
  for (const name of names) {
    const link = join(targetDir, name);
    if (entries.has(name)) rmSync(link, { recursive: true, force: true });
    symlinkSync(posix.join(dataDirName, name), link);
    own(link, true);
  }
}

/** Validates a provider's files and writes them (the upstream `writer` step). */
export function writeProviderFiles(targetDir: string, files: readonly ProvidedFile[], defaultMode: number, options: WriteOptions = {}): WriteResult {
  return writeAtomically(targetDir, buildPayload(files, defaultMode), options);
}
