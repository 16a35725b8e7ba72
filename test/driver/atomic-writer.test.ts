import { lstat, mkdir, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAtomically, writeProviderFiles } from '../../driver/fileutil/atomic-writer.js';
import { buildPayload, PayloadError, type ProvidedFile } from '../../driver/fileutil/payload.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const enc = (s: string) => new TextEncoder().encode(s);
const file = (path: string, contents: string, mode = 0): ProvidedFile => ({ path, contents: enc(contents), mode });

let root: TempRoot;
let n = 0;
beforeAll(async () => {
  root = await makeTempRoot('writer');
});
afterAll(async () => {
  await root.cleanup();
});

async function freshDir(): Promise<string> {
  const dir = join(root.path, `t${n++}`);
  await mkdir(dir);
  return dir;
}

describe('atomic writer', () => {
  it('lays out ..data, a timestamped payload dir and user-visible links', async () => {
    const dir = await freshDir();
    const res = writeProviderFiles(dir, [file('db-password', 's3cret', 0o600), file('nested/api-key', 'k3y')], 0o644);
    expect(res.changed).toBe(true);
    const entries = (await readdir(dir)).sort();
    const ts = entries.find((e) => /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\..+/.test(e));
    expect(ts).toBeDefined();
    expect(entries).toEqual(['..data', ts, 'db-password', 'nested'].sort());
    expect(await readlink(join(dir, '..data'))).toBe(ts);
    expect(await readlink(join(dir, 'db-password'))).toBe('..data/db-password');
    expect(await readlink(join(dir, 'nested'))).toBe('..data/nested');
    expect(await readFile(join(dir, 'db-password'), 'utf8')).toBe('s3cret');
    expect(await readFile(join(dir, 'nested/api-key'), 'utf8')).toBe('k3y');
    expect((await stat(join(dir, 'db-password'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested/api-key'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, ts!))).mode & 0o777).toBe(0o755);
  });

  it('applies modes the umask would clear', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('world', 'x', 0o666), file('exec', 'y', 0o750)], 0o644);
    expect((await stat(join(dir, 'world'))).mode & 0o777).toBe(0o666);
    expect((await stat(join(dir, 'exec'))).mode & 0o777).toBe(0o750);
  });

  it('does not rewrite an unchanged payload', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('a', '1'), file('b', '2')], 0o644);
    const before = await readlink(join(dir, '..data'));
    const inode = (await stat(join(dir, 'a'))).ino;
    const res = writeProviderFiles(dir, [file('a', '1'), file('b', '2')], 0o644);
    expect(res).toEqual({ changed: false, changedPaths: [] });
    expect(await readlink(join(dir, '..data'))).toBe(before);
    expect((await stat(join(dir, 'a'))).ino).toBe(inode);
  });

  it('completes the user-visible links of an unchanged payload that a killed write left out', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('a', '1'), file('nested/b', '2'), file('c', '3')], 0o644);
    const data = await readlink(join(dir, '..data'));
    const inode = (await stat(join(dir, 'c'))).ino;
    await rm(join(dir, 'a'));
    await rm(join(dir, 'nested'));
    const res = writeProviderFiles(dir, [file('a', '1'), file('nested/b', '2'), file('c', '3')], 0o644);
    expect(res).toEqual({ changed: true, changedPaths: ['a', 'nested'] });
    expect(await readlink(join(dir, '..data'))).toBe(data);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('1');
    expect(await readFile(join(dir, 'nested/b'), 'utf8')).toBe('2');
    expect((await stat(join(dir, 'c'))).ino).toBe(inode);
    expect(writeProviderFiles(dir, [file('a', '1'), file('nested/b', '2'), file('c', '3')], 0o644)).toEqual({ changed: false, changedPaths: [] });
  });

  it('drops the dangling link of a vanished entry that a killed write left, and leaves a hand-made link alone', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('a', '1')], 0o644);
    await symlink('..data/gone', join(dir, 'gone'));
    await symlink('/etc/hostname', join(dir, 'mine'));
    expect(writeProviderFiles(dir, [file('a', '1')], 0o644)).toEqual({ changed: true, changedPaths: ['gone'] });
    expect((await readdir(dir)).filter((e) => !e.startsWith('..')).sort()).toEqual(['a', 'mine']);
  });

  it('swaps in changes, keeps unchanged files (same inode and mtime) and removes vanished ones', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('keep', 'same'), file('change', 'v1'), file('gone', 'bye')], 0o644);
    const keepBefore = await stat(join(dir, 'keep'));
    const oldTs = await readlink(join(dir, '..data'));
    const res = writeProviderFiles(dir, [file('keep', 'same'), file('change', 'v2'), file('new', 'hi')], 0o644);
    expect(res.changedPaths).toEqual(['change', 'gone', 'new']);
    const keepAfter = await stat(join(dir, 'keep'));
    expect(keepAfter.ino).toBe(keepBefore.ino);
    expect(keepAfter.mtimeMs).toBe(keepBefore.mtimeMs);
    expect(await readFile(join(dir, 'change'), 'utf8')).toBe('v2');
    expect(await readFile(join(dir, 'new'), 'utf8')).toBe('hi');
    await expect(lstat(join(dir, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
    const entries = await readdir(dir);
    expect(entries).not.toContain(oldTs);
    expect(entries.filter((e) => e.startsWith('..')).length).toBe(2); // ..data and the new payload dir
  });

  it('rewrites a file whose mode alone changed', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('a', 'x', 0o644)], 0o644);
    const res = writeProviderFiles(dir, [file('a', 'x', 0o600)], 0o644);
    expect(res.changedPaths).toEqual(['a']);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o600);
  });

  it('removes payload dirs a crashed write left behind', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('a', '1')], 0o644);
    await mkdir(join(dir, '..2020_01_01_00_00_00.crashed'));
    await writeFile(join(dir, '..2020_01_01_00_00_00.crashed', 'half'), 'x');
    writeProviderFiles(dir, [file('a', '2')], 0o644);
    expect(await readdir(dir)).not.toContain('..2020_01_01_00_00_00.crashed');
  });

  it('recovers from a crash between the ..data_tmp link and the swap, and from a stray file at a visible name', async () => {
    const dir = await freshDir();
    writeProviderFiles(dir, [file('a', '1')], 0o644);
    // A write that died after pointing ..data_tmp at its payload, and a hand-made file where
    // a user-visible link belongs.
    await mkdir(join(dir, '..2020_01_01_00_00_00.crashed'));
    await symlink('..2020_01_01_00_00_00.crashed', join(dir, '..data_tmp'));
    await writeFile(join(dir, 'b'), 'stray');
    writeProviderFiles(dir, [file('a', '2'), file('b', 'from provider')], 0o644);
    const names = await readdir(dir);
    expect(names).toHaveLength(4);
    expect(names).toEqual(expect.arrayContaining(['..data', 'a', 'b']));
    expect(names.find((n) => !['..data', 'a', 'b'].includes(n))).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[\w-]{6}$/);
    expect(await readlink(join(dir, 'b'))).toBe('..data/b');
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('from provider');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('2');
  });

  it('writes into an empty directory without leaving anything outside it', async () => {
    const parent = await freshDir();
    const dir = join(parent, 'target');
    await mkdir(dir);
    writeProviderFiles(dir, [file('x', '1')], 0o644);
    expect(await readdir(parent)).toEqual(['target']);
  });

  it('never shows a concurrent reader a mixed set while payloads swap', async () => {
    const dir = await freshDir();
    const set = (v: number) => [file('one', `v${v}`), file('two', `v${v}`), file('three', `v${v}`)];
    writeProviderFiles(dir, set(0), 0o644);
    const stopFlag = new SharedArrayBuffer(4);
    // A reader on another thread resolves ..data once and reads the whole set from there,
    // as a program that opens the files through one path resolution would.
    const reader = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const fs = require('node:fs');
       let complete = 0, mixed = 0, vanished = 0;
       const stop = new Int32Array(workerData.stop);
       while (Atomics.load(stop, 0) === 0) {
         try {
           const data = fs.readlinkSync(workerData.dir + '/..data');
           const v = ['one', 'two', 'three'].map((f) => fs.readFileSync(workerData.dir + '/' + data + '/' + f, 'utf8'));
           if (v[0] === v[1] && v[1] === v[2]) complete++; else mixed++;
         } catch { vanished++; }
       }
       parentPort.postMessage({ complete, mixed, vanished });`,
      { eval: true, workerData: { dir, stop: stopFlag } },
    );
    await new Promise<void>((resolve) => reader.once('online', () => resolve()));
    for (let v = 1; v <= 300; v++) writeAtomically(dir, buildPayload(set(v), 0o644));
    const result = await new Promise<{ complete: number; mixed: number; vanished: number }>((resolve) => {
      reader.once('message', resolve);
      Atomics.store(new Int32Array(stopFlag), 0, 1);
    });
    expect(result.mixed).toBe(0);
    expect(result.complete).toBeGreaterThan(0);
  });
});

describe('payload validation', () => {
  const bad: Array<[string, RegExp]> = [
    ['/etc/passwd', /must be relative/],
    ['../escape', /must not contain '\.\.'/],
    ['a/../../b', /must not contain '\.\.'/],
    ['..hidden', /must not start with '\.\.'/],
    ['./a', /must be clean/],
    ['a//b', /must be clean/],
    ['a/', /must be clean/],
    ['', /must not be empty/],
    ['a\0b', /NUL/],
  ];
  for (const [path, msg] of bad) {
    it(`rejects ${JSON.stringify(path)} before writing anything`, async () => {
      const dir = await freshDir();
      expect(() => writeProviderFiles(dir, [file('ok', 'fine'), file(path, 'x')], 0o644)).toThrow(msg);
      expect(await readdir(dir)).toEqual([]);
    });
  }

  it('rejects modes outside 0..511, duplicates and file/dir clashes', () => {
    expect(() => buildPayload([file('a', 'x', 512)], 0o644)).toThrow(/within 0\.\.511/);
    expect(() => buildPayload([file('a', 'x', -1)], 0o644)).toThrow(PayloadError);
    expect(() => buildPayload([file('a', 'x'), file('a', 'y')], 0o644)).toThrow(/appears twice/);
    expect(() => buildPayload([file('a', 'x'), file('a/b', 'y')], 0o644)).toThrow(/also used as a directory/);
  });

  it('gives mode-0 files the default permission', () => {
    expect(buildPayload([file('a', 'x', 0)], 0o640).get('a')?.mode).toBe(0o640);
  });
});
