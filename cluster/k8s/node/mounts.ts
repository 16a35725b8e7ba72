/**
 * Mounts the node leaves behind when it stops badly (the kubelet's root bind mount, pod
 * volumes and service-account tmpfs, containerd's rootfs overlays, shm and network-namespace
 * mounts): found in /proc/self/mountinfo and unmounted deepest first.
 */
import { readFile } from 'node:fs/promises';
import { run } from './command.js';

/** Mount points in mountinfo order; mountinfo escapes space, tab, newline and backslash in octal. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Mount points at or under any of `dirs`, last mounted first (each stacked mount once per layer). */
export async function mountsUnder(dirs: readonly string[]): Promise<string[]> {
  return (await mountPoints()).filter((m) => dirs.some((d) => isUnder(m, d))).reverse();
}

/**
 * Unmounts everything at or under `dirs`, deepest and latest first, until nothing is left.
 * A mount that stays busy is detached (`umount --lazy`) and reported, never ignored.
 */
export async function unmountAllUnder(dirs: readonly string[]): Promise<{ unmounted: number; lazy: string[] }> {
  let unmounted = 0;
  const lazy: string[] = [];
  for (let round = 0; round < 5; round++) {
    const left = await mountsUnder(dirs);
    if (left.length === 0) return { unmounted, lazy };
    left.sort((a, b) => b.split('/').length - a.split('/').length);
    for (const m of left) {
      try {
        await run('umount', [m]);
        unmounted++;
      } catch (e) {
        if (/not mounted|no mount point/i.test((e as Error).message)) continue;
        await run('umount', ['--lazy', m]).catch(() => undefined);
        lazy.push(m);
      }
    }
  }
  const left = await mountsUnder(dirs);
  if (left.length > 0) throw new Error(`could not unmount ${left.join(', ')}`);
  return { unmounted, lazy };
}
