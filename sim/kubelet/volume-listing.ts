/**
 * What a pod's volume holds, as its container would see it with `ls -lR`: the paths of the
 * files (following the atomic writer's `..data` links, hiding its `..` entries) and their
 * sizes. Never their contents: these lines go to the container's log.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface VolumeFile {
  path: string;
  size: number;
}

/** The files under `dir`, sorted by path; an unreadable dir lists what it can. */
export async function listVolumeFiles(dir: string, prefix = ''): Promise<VolumeFile[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: VolumeFile[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('..')) continue;
    const full = join(dir, name);
    const st = await stat(full).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) out.push(...(await listVolumeFiles(full, `${prefix}${name}/`)));
    else out.push({ path: `${prefix}${name}`, size: st.size });
  }
  return out;
}

/** One line per file: `  <path> (<n> bytes)`. */
export function describeFiles(files: VolumeFile[]): string[] {
  return files.map((f) => `  ${f.path} (${f.size} bytes)`);
}
