/**
 * Which mounts are this driver's own. The driver mounts its tmpfs volumes with the source
 * name `secrets-store-csi` (the `source` field of /proc/self/mountinfo, shown by `mount` and
 * `df`), so that after a restart, when its in-memory records are gone, mountinfo still
 * proves which mounts it made. It unmounts nothing else.
 *
 * Ours: a tmpfs whose source is `secrets-store-csi`; a tmpfs at a target the driver holds a
 * record of (it published it in this process); and, for volumes made before this rule
 * (earlier versions of this driver and upstream's driver mount with source `tmpfs`), a
 * tmpfs with source `tmpfs` at a kubelet-layout CSI target path. Anything else mounted at a
 * target — `/`, a bind mount, another filesystem — is foreign and left alone.
 */
import { readFileSync } from 'node:fs';
import { parseMountInfo, type MountInfoEntry } from './mount-info.js';
import { kubeletTargetParts } from './target-path.js';

/** The mount source of every tmpfs volume this driver makes. */
export const volumeSource = 'secrets-store-csi';

export type Ownership = { kind: 'none' } | { kind: 'ours' } | { kind: 'foreign'; fsType: string; source: string };

/** Whose the topmost mount at `targetPath` is (`top` undefined: nothing is mounted there). */
export function ownershipOf(top: MountInfoEntry | undefined, targetPath: string, recorded: boolean): Ownership {
  if (!top) return { kind: 'none' };
  if (top.fsType === 'tmpfs') {
    if (top.source === volumeSource || recorded) return { kind: 'ours' };
    if (top.source === 'tmpfs' && kubeletTargetParts(targetPath)) return { kind: 'ours' };
  }
  return { kind: 'foreign', fsType: top.fsType, source: top.source };
}

/** The kernel's escaping of a path in mountinfo (space, tab, newline, backslash as \\ooo). */
const escapeMountPath = (p: string) => p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

/**
 * Every mount at exactly `targetPath`, topmost first (mountinfo lists them bottom to top).
 * One read of mountinfo; only the lines naming the path are parsed.
 */
export async function mountsAt(targetPath: string): Promise<MountInfoEntry[]> {
  const needle = ` ${escapeMountPath(targetPath)} `;
  // Synchronously: a procfs file has no size to read up to, so the async readFile costs
  // four thread-pool round trips (0.25 ms measured) for what the kernel renders in
  // microseconds; the event loop is held for about as long as one of those hops.
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const lines = text.split('\n').filter((l) => l.includes(needle));
  return parseMountInfo(lines.join('\n')).filter((m) => m.mountPoint === targetPath).reverse();
}

/** The topmost mount at exactly `targetPath`, if any. */
export async function topMountAt(targetPath: string): Promise<MountInfoEntry | undefined> {
  return (await mountsAt(targetPath))[0];
}

export async function ownershipAt(targetPath: string, recorded: boolean): Promise<Ownership> {
  return ownershipOf(await topMountAt(targetPath), targetPath, recorded);
}

/** Whose each mount at `targetPath` is, topmost first (empty: nothing is mounted there). */
export async function ownershipStackAt(targetPath: string, recorded: boolean): Promise<Ownership[]> {
  return (await mountsAt(targetPath)).map((m) => ownershipOf(m, targetPath, recorded));
}

export const describeForeign = (o: { fsType: string; source: string }) => `a ${o.fsType} mount of ${JSON.stringify(o.source)}`;
