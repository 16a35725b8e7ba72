/**
 * Reading /proc/self/mountinfo without spawning processes: the authoritative list of mount
 * points, used to verify cleanups and by tests. The hot path uses device numbers instead
 * (see tmpfs-mounter.ts), which costs two stat calls rather than a parse of every mount.
 */
import { readFile } from 'node:fs/promises';

export interface MountInfoEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  options: string;
}

/** The kernel escapes space, tab, newline and backslash in paths as \ooo octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    // id parent major:minor root mountpoint options [optional fields...] - fstype source superopts
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (fields.length < 10 || sep === -1) continue;
    entries.push({
      mountPoint: unescape(fields[4]!),
      options: fields[5]!,
      fsType: fields[sep + 1]!,
      source: unescape(fields[sep + 2]!),
    });
  }
  return entries;
}

export async function readMountInfo(path = '/proc/self/mountinfo'): Promise<MountInfoEntry[]> {
  return parseMountInfo(await readFile(path, 'utf8'));
}

/** Mount points at or below `root`, deepest first (the order to unmount them in). */
export async function mountsUnder(root: string): Promise<MountInfoEntry[]> {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return (await readMountInfo())
    .filter((e) => e.mountPoint === root || e.mountPoint.startsWith(prefix))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}
