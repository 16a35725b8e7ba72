/**
 * What in a target directory the atomic writer accounts for (atomic-writer.ts): `..data`
 * and `..data_tmp` (links), the timestamped payload directories `..<timestamp>.<random>`,
 * and the user-visible links `name -> ..data/name`. Unpublish removes these and nothing
 * else; whatever else is there was not written by the driver and stays.
 */
import { readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { threadPoolProbe, type PathProbe } from '../mount/path-probe.js';

export interface TargetEntry {
  name: string;
  type: 'dir' | 'file' | 'symlink' | 'other';
  /** For a symlink: what it points at. */
  link?: string;
}

/** `..2026_11_22_10_04_05.Ab12Cd` (ours: 6 base64url characters; the Kubernetes writer's: digits). */
const payloadDir = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.[A-Za-z0-9_-]{1,16}$/;

export interface Classified {
  /** Entries the atomic writer's layout accounts for. */
  layout: string[];
  /** Everything else. */
  extras: string[];
}

/** Sorts a target's entries into the writer's layout and the rest (pure). */
export function classifyEntries(entries: readonly TargetEntry[]): Classified {
  const layout: string[] = [];
  const extras: string[] = [];
  for (const e of entries) {
    const ours =
      ((e.name === '..data' || e.name === '..data_tmp') && e.type === 'symlink') ||
      (payloadDir.test(e.name) && e.type === 'dir') ||
      (!e.name.startsWith('..') && e.type === 'symlink' && e.link === `..data/${e.name}`);
    (ours ? layout : extras).push(e.name);
  }
  return { layout: layout.sort(), extras: extras.sort() };
}

/** The entries of directory `dir` (links read, never followed). */
export async function listTarget(dir: string): Promise<TargetEntry[]> {
  const out: TargetEntry[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const type = d.isSymbolicLink() ? 'symlink' : d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other';
    out.push(type === 'symlink' ? { name: d.name, type, link: await readlink(join(dir, d.name)) } : { name: d.name, type });
  }
  return out;
}

/** Whether `dir` holds the writer's `..data` link. */
export async function hasDataLink(dir: string, probe: PathProbe = threadPoolProbe): Promise<boolean> {
  return (await probe.lstat(join(dir, '..data')).catch(() => undefined))?.isSymbolicLink() === true;
}

/** Removes the named layout entries of `dir` (payload dirs recursively; links as links). */
export async function removeEntries(dir: string, names: readonly string[]): Promise<void> {
  // User-visible links first, then ..data, then the payload: a reader never finds a link
  // into a removed payload that still looks valid.
  const order = (n: string) => (!n.startsWith('..') ? 0 : n === '..data' || n === '..data_tmp' ? 1 : 2);
  for (const name of [...names].sort((a, b) => order(a) - order(b))) {
    await rm(join(dir, name), { recursive: true, force: true });
  }
}
