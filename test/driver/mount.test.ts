/**
 * The mount boundary against the real kernel: tmpfs through mount(2)/umount2(2) via
 * koffi, mount-point detection without processes, /proc/self/mountinfo parsing.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirMounter } from '../../driver/mount/dir-mounter.js';
import { mountsUnder, parseMountInfo } from '../../driver/mount/mount-info.js';
import { isMountPoint, mountTmpfs, TmpfsMounter } from '../../driver/mount/tmpfs-mounter.js';
import { selectMounter } from '../../driver/mount/select-mounter.js';
import { inlineProbe, threadPoolProbe } from '../../driver/mount/path-probe.js';
import { findSymlink } from '../../driver/mount/target-path.js';
import { hasDataLink } from '../../driver/fileutil/target-layout.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let tmp: TempRoot;
beforeAll(async () => {
  tmp = await makeTempRoot('mount');
});
afterAll(async () => {
  await tmp.cleanup();
});

describe('mountinfo parsing', () => {
  it('reads mount points, types and octal escapes', () => {
    const text = [
      '36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
      '40 22 0:45 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/s/mount rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755',
      '',
    ].join('\n');
    expect(parseMountInfo(text)).toEqual([
      { mountPoint: '/mnt/with space', options: 'rw,noatime', fsType: 'ext3', source: '/dev/root' },
      { mountPoint: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/s/mount', options: 'rw,nosuid,nodev', fsType: 'tmpfs', source: 'tmpfs' },
    ]);
  });
});

describe.skipIf(!isRoot)('tmpfs mounter (root)', () => {
  it('mounts a tmpfs that mountinfo and device numbers agree on, then unmounts it', async () => {
    const target = join(tmp.path, 'a');
    await mkdir(target);
    const m = new TmpfsMounter();
    expect(await m.isMounted(target)).toBe(false);
    await m.mount(target);
    expect(await m.isMounted(target)).toBe(true);
    const [entry] = await mountsUnder(target);
    expect(entry).toMatchObject({ mountPoint: target, fsType: 'tmpfs' });
    expect(entry!.options).toMatch(/nosuid/);
    expect(entry!.options).toMatch(/nodev/);
    await m.unmount(target);
    expect(await m.isMounted(target)).toBe(false);
    expect(await mountsUnder(target)).toEqual([]);
  });

  it('unmount takes off one mount at a time and says when there was none', async () => {
    const target = join(tmp.path, 'stacked');
    await mkdir(target);
    const m = new TmpfsMounter();
    expect(await m.unmount(target)).toBe(false);
    expect(await m.unmount(join(tmp.path, 'does-not-exist'))).toBe(false);
    mountTmpfs(target);
    mountTmpfs(target);
    expect((await mountsUnder(target)).length).toBe(2);
    expect(await m.unmount(target)).toBe(true);
    expect((await mountsUnder(target)).length).toBe(1);
    expect(await m.unmount(target)).toBe(true);
    expect(await mountsUnder(target)).toEqual([]);
  });

  it('mounts with the source secrets-store-csi, owns that and nothing else, and never mounts through a link', async () => {
    const target = join(tmp.path, 'own');
    await mkdir(target);
    const m = new TmpfsMounter();
    expect(await m.ownership(target, false)).toEqual({ kind: 'none' });
    await m.mount(target);
    expect(await mountsUnder(target)).toMatchObject([{ mountPoint: target, fsType: 'tmpfs', source: 'secrets-store-csi' }]);
    expect(await m.ownership(target, false)).toEqual({ kind: 'ours' });
    await m.unmount(target);
    mountTmpfs(target); // source "tmpfs", not at a kubelet path: someone else's
    expect(await m.ownership(target, false)).toEqual({ kind: 'foreign', fsType: 'tmpfs', source: 'tmpfs' });
    expect(await m.ownership(target, true)).toEqual({ kind: 'ours' }); // unless the driver recorded it
    await m.unmount(target);
    const real = join(tmp.path, 'real');
    await mkdir(real);
    await symlink(real, join(tmp.path, 'link'));
    await expect(m.mount(join(tmp.path, 'link'))).rejects.toMatchObject({ code: 'ENOTDIR', message: expect.stringMatching(/refusing to mount through it/) });
    expect(await mountsUnder(real)).toEqual([]);
  });

  it('reads the whole stack at a target from one look at the mount table, topmost first, also for a path the kernel escapes', async () => {
    const target = join(tmp.path, 'a b\\c'); // mountinfo shows it as a\040b\134c
    await mkdir(target);
    const m = new TmpfsMounter();
    expect(await m.ownershipStack(target, false)).toEqual([]);
    mountTmpfs(target); // someone else's, below
    await m.mount(target); // ours, on top
    expect(await m.ownershipStack(target, false)).toEqual([{ kind: 'ours' }, { kind: 'foreign', fsType: 'tmpfs', source: 'tmpfs' }]);
    await m.unmount(target);
    await m.unmount(target);
    expect(await m.ownershipStack(target, false)).toEqual([]);
  });

  it('detaches a busy mount', async () => {
    const target = join(tmp.path, 'busy');
    await mkdir(target);
    const m = new TmpfsMounter();
    await m.mount(target);
    await mkdir(join(target, 'inner'));
    mountTmpfs(join(target, 'inner')); // a mount below keeps the outer one busy
    await m.unmount(target);
    expect(await isMountPoint(target)).toBe(false);
  });

  it('reports errno names for a failed mount', () => {
    expect(() => mountTmpfs(join(tmp.path, 'missing-dir'))).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'mount' }));
  });

  it('auto mode picks tmpfs as root', async () => {
    expect((await selectMounter('auto')).kind).toBe('tmpfs');
    expect((await selectMounter('tmpfs')).kind).toBe('tmpfs');
  });
});

describe('dir mounter', () => {
  it('counts a directory as mounted once the writer published ..data', async () => {
    const target = join(tmp.path, 'dir-mode');
    await mkdir(target);
    const m = new DirMounter();
    await m.mount(target);
    expect(await m.isMounted(target)).toBe(false);
    await writeFile(join(target, '..data'), '');
    expect(await m.isMounted(target)).toBe(true);
    expect((await selectMounter('dir')).kind).toBe('dir');
  });
});

describe.each([
  ['inline', inlineProbe, 'inline'],
  ['through the thread pool', threadPoolProbe, 'pool'],
])('looking at a target %s', (_, probe, tag) => {
  it('finds the link in a kubelet target path, or none, or stops at a missing component', async () => {
    const pods = join(tmp.path, `probe-${tag}`, 'pods');
    const volumeDir = join(pods, 'uid-1', 'volumes', 'kubernetes.io~csi');
    await mkdir(join(volumeDir, 'real', 'mount'), { recursive: true });
    await symlink(join(volumeDir, 'real'), join(volumeDir, 'linked'));
    expect(await findSymlink(join(volumeDir, 'real', 'mount'), probe)).toBeUndefined();
    expect(await findSymlink(join(volumeDir, 'linked', 'mount'), probe)).toEqual({ path: join(volumeDir, 'linked'), to: join(volumeDir, 'real') });
    expect(await findSymlink(join(pods, 'uid-2', 'volumes', 'kubernetes.io~csi', 'v', 'mount'), probe)).toBeUndefined();
    // A first publish: the target does not exist yet. Its parent exists, or is a link, or
    // the target itself is a link that points nowhere.
    await mkdir(join(volumeDir, 'fresh'));
    expect(await findSymlink(join(volumeDir, 'fresh', 'mount'), probe)).toBeUndefined();
    await mkdir(join(volumeDir, 'empty'));
    await symlink(join(volumeDir, 'empty'), join(volumeDir, 'linked-empty'));
    expect(await findSymlink(join(volumeDir, 'linked-empty', 'mount'), probe)).toEqual({ path: join(volumeDir, 'linked-empty'), to: join(volumeDir, 'empty') });
    await mkdir(join(volumeDir, 'dangling'));
    await symlink('/nowhere/at/all', join(volumeDir, 'dangling', 'mount'));
    expect(await findSymlink(join(volumeDir, 'dangling', 'mount'), probe)).toEqual({ path: join(volumeDir, 'dangling', 'mount'), to: '/nowhere/at/all' });
    // Outside the kubelet's layout only the target itself is guarded.
    expect(await findSymlink(join(volumeDir, 'linked-empty', 'anything'), probe)).toBeUndefined();
    expect(await findSymlink(join(volumeDir, 'dangling', 'mount', 'below'), probe)).toBeUndefined();
    expect(await findSymlink(join(volumeDir, 'linked-empty'), probe)).toEqual({ path: join(volumeDir, 'linked-empty'), to: join(volumeDir, 'empty') });
  });

  it('tells a ..data link from a file of that name and from nothing, and fails a missing path with ENOENT', async () => {
    const dir = join(tmp.path, `probe-data-${tag}`);
    await mkdir(dir);
    expect(await hasDataLink(dir, probe)).toBe(false);
    await writeFile(join(dir, '..data'), '');
    expect(await hasDataLink(dir, probe)).toBe(false);
    const linked = join(tmp.path, `probe-link-${tag}`);
    await mkdir(linked);
    await symlink('..2026_01_01_00_00_00.abcdef', join(linked, '..data'));
    expect(await hasDataLink(linked, probe)).toBe(true);
    await expect(probe.stat(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.skipIf(!isRoot)('says whether a target is a mount point', async () => {
    const target = join(tmp.path, `probe-mount-${tag}`);
    await mkdir(target);
    expect(await isMountPoint(target, probe)).toBe(false);
    mountTmpfs(target);
    try {
      expect(await isMountPoint(target, probe)).toBe(true);
      expect(await new TmpfsMounter().isMounted(target, probe)).toBe(true);
    } finally {
      await new TmpfsMounter().unmount(target);
    }
    expect(await isMountPoint(join(target, 'missing'), probe)).toBe(false);
  });
});
