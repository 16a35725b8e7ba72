/**
 * A temporary directory (for a test file or a benchmark) that is always left clean: every
 * mount below it is unmounted (deepest first) before it is removed, even when the run failed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountAllUnder } from './host-mounts.js';

export interface TempRoot {
  path: string;
  cleanup(): Promise<void>;
}

/** A fresh directory `sscsi-PREFIX-XXXXXX` in the system's temporary directory. */
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

/** Running as root on Linux, where tmpfs can be mounted. */
export const isRoot = process.getuid?.() === 0 && process.platform === 'linux';
