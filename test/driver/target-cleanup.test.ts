/**
 * Taking a volume down without root (plain-directory volumes, `--mount-mode=dir`): only the
 * atomic writer's layout and the then-empty directory go; anything else stays and the
 * answer says what.
 */
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProviderFiles } from '../../driver/fileutil/atomic-writer.js';
import { DirMounter } from '../../driver/mount/dir-mounter.js';
import { removeVolume } from '../../driver/target-cleanup.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { targetPath } from '../../cluster/kubelet-layout.js';

let tmp: TempRoot;
beforeAll(async () => {
  tmp = await makeTempRoot('cleanup');
});
afterAll(async () => {
  await tmp.cleanup();
});

const files = [
  { path: 'password', mode: 0o600, contents: Buffer.from('pw') },
  { path: 'keys/api-key', mode: 0o644, contents: Buffer.from('k') },
];

async function volume(name: string): Promise<string> {
  const dir = targetPath(tmp.path, name, 'secrets');
  await mkdir(dir, { recursive: true });
  writeProviderFiles(dir, files, 0o644);
  writeProviderFiles(dir, [{ ...files[0]!, contents: Buffer.from('pw2') }], 0o644); // a rotation: a second payload dir came and went
  return dir;
}

describe('removeVolume (directory volumes)', () => {
  const m = new DirMounter();

  it('removes the layout and the directory', async () => {
    const dir = await volume('a');
    expect(await removeVolume(m, dir, true)).toBe('removed');
    expect(await readdir(join(dir, '..'))).toEqual([]);
  });

  it('keeps what the writer did not make and says so', async () => {
    const dir = await volume('b');
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await symlink('/etc', join(dir, 'etc-link'));
    await expect(removeVolume(m, dir, true)).rejects.toMatchObject({
      code: 9,
      message: `${dir} holds 2 entries the driver did not write ("etc-link", "notes.txt"): the driver's own files were removed, these were left in place; remove them if they are not needed`,
    });
    expect((await readdir(dir)).sort()).toEqual(['etc-link', 'notes.txt']);
  });

  it('a directory that is no volume is left as it is; an empty one and a missing one are done', async () => {
    const plain = join(tmp.path, 'plain');
    await mkdir(join(plain, 'sub'), { recursive: true });
    await writeFile(join(plain, 'sub', 'x'), 'x');
    expect(await removeVolume(m, plain, false)).toBe('not-a-volume');
    expect(await readdir(join(plain, 'sub'))).toEqual(['x']);
    const empty = join(tmp.path, 'empty');
    await mkdir(empty);
    expect(await removeVolume(m, empty, false)).toBe('removed');
    expect(await removeVolume(m, empty, false)).toBe('absent');
  });
});
