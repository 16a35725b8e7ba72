/**
 * What a target path may be before the driver creates or mounts anything on it: no
 * symbolic link in any component the driver creates or mounts on, so that `mkdir -p` and
 * mount(2) cannot be sent elsewhere on the node (a link would put the tmpfs, and the
 * secrets, wherever it points).
 *
 * Which components are guarded: for the kubelet's layout
 * `<root>/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount`, every component below the
 * pods directory (`<uid>` down to `mount`); the kubelet's root itself may be a link (nodes
 * that keep /var/lib/kubelet elsewhere), and is the kubelet's to choose. For any other path
 * (generic CSI tools), the target itself.
 */
import { posix } from 'node:path';
import { threadPoolProbe, type PathProbe } from './path-probe.js';

const kubeletTarget = /^(.*\/pods)\/([^/]+)\/volumes\/kubernetes\.io~csi\/([^/]+)\/mount$/;

export interface KubeletTarget {
  podsDir: string;
  podUid: string;
  volume: string;
}

/** The pods directory, pod uid and volume name of a kubelet-layout target path, else undefined. */
export function kubeletTargetParts(targetPath: string): KubeletTarget | undefined {
  const m = kubeletTarget.exec(targetPath);
  return m ? { podsDir: m[1]!, podUid: m[2]!, volume: m[3]! } : undefined;
}

/** The paths, outermost first, that must not be symbolic links (see the module comment). */
export function guardedComponents(targetPath: string): string[] {
  const parts = kubeletTargetParts(targetPath);
  if (!parts) return [targetPath];
  const out: string[] = [];
  for (let p = targetPath; p !== parts.podsDir && p !== '/'; p = posix.dirname(p)) out.unshift(p);
  return out;
}

export interface FoundSymlink {
  path: string;
  /** Where it points (as stored in the link). */
  to: string;
}

/**
 * The first guarded component of `targetPath` that is a symbolic link, by an lstat walk;
 * undefined when there is none. A component that does not exist ends the walk (the driver
 * creates it, as a directory).
 */
export async function findSymlink(targetPath: string, fs: PathProbe = threadPoolProbe): Promise<FoundSymlink | undefined> {
  // The common case in two calls instead of an lstat per component (unpublish runs this on
  // every call): when the target resolves to itself below its resolved base (the pods
  // directory, which may itself be a link; else the parent), no guarded component is a link.
  const base = kubeletTargetParts(targetPath)?.podsDir ?? posix.dirname(targetPath);
  try {
    const [realBase, realTarget] = await Promise.all([fs.realpath(base), fs.realpath(targetPath)]);
    if (realTarget === posix.join(realBase, posix.relative(base, targetPath))) return undefined;
  } catch {
    // a component is missing (or unreadable): the walk says which, and whether a link comes first
  }
  for (const path of guardedComponents(targetPath)) {
    let st;
    try {
      st = await fs.lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) return { path, to: await fs.readlink(path).catch(() => '?') };
  }
  return undefined;
}
