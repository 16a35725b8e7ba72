/**
 * The cgroups the kubelet makes for pods (cgroupsPerQOS with the cgroupfs driver:
 * `kubepods`, `kubepods/burstable`, `kubepods/besteffort`, `.../pod<uid>/<container>`) in
 * every cgroup v1 hierarchy under /sys/fs/cgroup (and the unified one): found, and removed
 * leaves first once their processes are gone.
 */
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

export const cgroupRoot = '/sys/fs/cgroup';

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** Every kubepods cgroup directory, children before parents. */
export async function podCgroups(root = cgroupRoot): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const d of await subdirs(dir)) await walk(d);
    out.push(dir);
  };
  for (const hierarchy of await subdirs(root)) {
    for (const top of await subdirs(hierarchy)) if (/^kubepods/.test(top.slice(hierarchy.length + 1))) await walk(top);
  }
  return out;
}

async function procs(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/**
 * Removes every pod cgroup. A cgroup still holding processes is not removed: it is reported
 * with its pids (the stop sequence kills containers before it gets here).
 */
export async function removePodCgroups(root = cgroupRoot): Promise<{ removed: number; busy: string[] }> {
  let removed = 0;
  const busy: string[] = [];
  for (const dir of await podCgroups(root)) {
    const pids = await procs(dir);
    if (pids.length > 0) {
      busy.push(`${dir} (pids ${pids.join(' ')})`);
      continue;
    }
    try {
      await rmdir(dir);
      removed++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') busy.push(`${dir} (${(e as Error).message})`);
    }
  }
  return { removed, busy };
}
