/**
 * What the kit sees of a target path, from the node's point of view: whether it is a mount
 * point (and of what), whether anything is left in it, and the projected-volume layout the
 * atomic writer must leave (`..data` → one timestamped payload dir, visible names linking
 * through `..data`).
 */
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dataLink, isPayloadDirName, visibleLinkTarget } from '../contract/file-layout.js';
import { nodeMounts } from './node-mounts.js';

export async function mountsAt(path: string): Promise<Array<{ fsType: string; source: string }>> {
  return (await nodeMounts()).filter((m) => m.mountPoint === path).map((m) => ({ fsType: m.fsType, source: m.source }));
}

export interface TargetState {
  mounts: number;
  /** Entries left in the directory; null when the directory does not exist. */
  entries: string[] | null;
}

export async function targetState(path: string): Promise<TargetState> {
  const mounts = (await mountsAt(path)).length;
  const entries = await readdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return { mounts, entries };
}

/** Clean after a failed first mount: not a mount point, and gone or empty. */
export const isClean = (s: TargetState) => s.mounts === 0 && (s.entries === null || s.entries.length === 0);

export const describeState = (s: TargetState) =>
  `${s.mounts === 0 ? 'not mounted' : `${s.mounts} mount(s)`}, ${s.entries === null ? 'no directory' : s.entries.length === 0 ? 'empty directory' : `entries ${s.entries.join(', ')}`}`;

export interface Layout {
  /** What `..data` points at. */
  data: string;
  problems: string[];
}

/** Checks the atomic-writer layout for the expected top-level names (e.g. `keys` for keys/api-key). */
export async function inspectLayout(target: string, visible: string[]): Promise<Layout> {
  const problems: string[] = [];
  const entries = await readdir(target);
  let data = '';
  try {
    data = await readlink(join(target, dataLink));
  } catch (err) {
    problems.push(`..data is not a symlink (${(err as NodeJS.ErrnoException).code})`);
  }
  if (data !== '') {
    if (!isPayloadDirName(data)) problems.push(`..data points at ${JSON.stringify(data)}, not a hidden payload dir beside it`);
    else if (!(await stat(join(target, data)).catch(() => undefined))?.isDirectory()) problems.push(`..data points at ${data}, which is not a directory`);
  }
  const payloadDirs = entries.filter((e) => e.startsWith('..') && e !== dataLink);
  if (payloadDirs.length !== 1) problems.push(`expected exactly one payload dir, found ${payloadDirs.length}: ${payloadDirs.join(', ')}`);
  const user = entries.filter((e) => !e.startsWith('..'));
  for (const name of visible) {
    const st = await lstat(join(target, name)).catch(() => undefined);
    if (!st) problems.push(`${name} is missing`);
    else if (!st.isSymbolicLink()) problems.push(`${name} is not a symlink into ..data`);
    else {
      const to = await readlink(join(target, name));
      if (to !== visibleLinkTarget(name)) problems.push(`${name} links to ${to}, not ..data/${name}`);
    }
  }
  const extra = user.filter((e) => !visible.includes(e));
  if (extra.length > 0) problems.push(`unexpected entries: ${extra.join(', ')}`);
  return { data, problems };
}
