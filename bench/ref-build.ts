/**
 * Another git ref of this project, built for comparison (`npm run bench:check -- --against
 * REF`): a detached git worktree in a temporary directory, `node_modules` linked from this
 * checkout (no install), `npm run build` there. `remove()` takes the worktree away again
 * (directory and git's record of it); the caller calls it whatever happened, and a build
 * that fails removes it before throwing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../driver/version.js';

const run = promisify(execFile);

export interface RefBuild {
  /** The ref as given and the commit it named. */
  ref: string;
  commit: string;
  /** The worktree's root: its `dist/` holds the build. */
  root: string;
  remove(): Promise<void>;
}

/** A bad ref or a failed build: the message says which and why. */
export class RefBuildError extends Error {}

const git = async (args: string[], cwd = packageRoot()) => (await run('git', args, { cwd, maxBuffer: 16 << 20 })).stdout.trim();

/** The merge-base of HEAD with `main` — the default ref to compare against. */
export async function defaultRef(): Promise<string> {
  try {
    return await git(['merge-base', 'HEAD', 'main']);
  } catch (err) {
    throw new RefBuildError(`no merge-base of HEAD with main to compare against (${(err as Error).message.split('\n')[0]}); name a ref with --against REF`);
  }
}

/**
 * Builds `ref`. `onRemovable` gets the remover as soon as there is something to remove (a
 * caller that stops on a signal mid-build calls it).
 */
export async function buildRef(ref: string, log: (line: string) => void, onRemovable: (remove: () => Promise<void>) => void = () => undefined): Promise<RefBuild> {
  let commit: string;
  try {
    commit = await git(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`]);
  } catch {
    throw new RefBuildError(`--against ${ref}: not a commit in this repository (git rev-parse found none); name a branch, tag or commit, e.g. --against HEAD~1`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'sscsi-bench-ref-'));
  const root = join(dir, 'tree');
  let added = false;
  const remove = async () => {
    if (added) await git(['worktree', 'remove', '--force', root]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await git(['worktree', 'prune']).catch(() => undefined);
  };
  onRemovable(remove);
  try {
    await git(['worktree', 'add', '--detach', root, commit]);
    added = true;
    await symlink(join(packageRoot(), 'node_modules'), join(root, 'node_modules'), 'dir');
    log(`bench:check: building ${ref} (${commit.slice(0, 12)}) in ${root}`);
    try {
      await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 64 << 20 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new RefBuildError(`--against ${ref}: npm run build failed at ${commit.slice(0, 12)}:\n${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n') || e.message}`);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { ref, commit, root, remove };
}
