/**
 * A temporary directory for one test file that is always left clean: every mount below it
 * is unmounted (deepest first) before it is removed, even when the test failed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountAllUnder } from '../../driver/mount/tmpfs-mounter.js';

export interface TempRoot {
  path: string;
  cleanup(): Promise<void>;
}

export async function makeTempRoot(prefix: string): Promise<TempRoot> {
  const path = await mkdtemp(join(tmpdir(), `sscsi-${prefix}-`));
  return {
    path,
    async cleanup() {
      await unmountAllUnder(path);
      await rm(path, { recursive: true, force: true });
    },
  };
}

export const isRoot = process.getuid?.() === 0 && process.platform === 'linux';
