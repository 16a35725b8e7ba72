/**
 * The pure checks the driver runs on what it is handed before it acts (the entry points
 * fuzzing targets): Kubernetes names, target paths, provider file paths and their bytes
 * off the wire, which mounts are the driver's, which entries of a target the atomic writer
 * made, which path components must not be links.
 */
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { classifyEntries } from '../../driver/fileutil/target-layout.js';
import { buildPayload, byteRule, PayloadError } from '../../driver/fileutil/payload.js';
import { isDnsLabel, isDnsSubdomain } from '../../driver/k8s/names.js';
import { ownershipOf } from '../../driver/mount/ownership.js';
import { guardedComponents, kubeletTargetParts } from '../../driver/mount/target-path.js';
import { filePathBytes } from '../../driver/provider/mount-response.js';
import { validateTargetPath } from '../../driver/request-validation.js';
import { publishTarget } from '../../driver/volume-publisher.js';
import { kubeletPublishRequest } from '../../harness/csi-client.js';

describe('Kubernetes names', () => {
  it('SecretProviderClass and pod names are RFC 1123 subdomains', () => {
    for (const ok of ['app', 'app-secrets', 'a.b-c.d', '0', 'x'.repeat(253)]) expect(isDnsSubdomain(ok), ok).toBe(true);
    for (const bad of ['', '.', '..', 'a/b', '%2e%2e', 'App', '-a', 'a-', 'a..b', '.a', 'a.', 'a_b', 'x'.repeat(254), 'é']) expect(isDnsSubdomain(bad), bad).toBe(false);
  });
  it('namespaces are RFC 1123 labels', () => {
    for (const ok of ['default', 'kube-system', 'a1', 'x'.repeat(63)]) expect(isDnsLabel(ok), ok).toBe(true);
    for (const bad of ['', '.', '..', 'a.b', 'A', '-a', 'x'.repeat(64)]) expect(isDnsLabel(bad), bad).toBe(false);
  });
  it('publishTarget refuses them before any request, with INVALID_ARGUMENT', () => {
    const req = (spc: string, namespace = 'default') => ({ ...kubeletPublishRequest({ targetPath: '/t', spc, pod: { name: 'web-0', namespace, uid: 'u' } }), secrets: {} }) as never;
    expect(() => publishTarget(req('..'))).toThrow(expect.objectContaining({ code: 3, message: expect.stringMatching(/^secretProviderClass "\.\." is not a valid SecretProviderClass name: it must be a lowercase RFC 1123 subdomain/) }));
    expect(() => publishTarget(req('app', '..'))).toThrow(expect.objectContaining({ code: 3, message: expect.stringMatching(/pod\.namespace "\.\." is not a valid namespace/) }));
    expect(publishTarget(req('app')).spcName).toBe('app');
  });
});

describe('target paths', () => {
  it('must be absolute and clean', () => {
    for (const ok of ['/', '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/v/mount', '/tmp/x']) expect(() => validateTargetPath(ok)).not.toThrow();
    for (const bad of ['relative/path', './x', '/a/../b', '/a/./b', '/a//b', '/a/', '/a\0b']) expect(() => validateTargetPath(bad), bad).toThrow(/is not an absolute, clean path/);
  });
  it('guard every component below the kubelet pods dir, else the target itself', () => {
    const t = '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount';
    expect(kubeletTargetParts(t)).toEqual({ podsDir: '/var/lib/kubelet/pods', podUid: 'uid-1', volume: 'secrets' });
    expect(guardedComponents(t)).toEqual([
      '/var/lib/kubelet/pods/uid-1',
      '/var/lib/kubelet/pods/uid-1/volumes',
      '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi',
      '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets',
      t,
    ]);
    expect(guardedComponents('/tmp/csi-mount/target')).toEqual(['/tmp/csi-mount/target']);
    expect(kubeletTargetParts('/tmp/csi-mount/target')).toBeUndefined();
  });
});

describe('provider file paths', () => {
  it('must be UTF-8 as sent, at most 4096 bytes, 255 per component', () => {
    expect(byteRule('ok', Buffer.from('ok'))).toBeUndefined();
    expect(byteRule('\uFFFD', Buffer.from([0xef, 0xbf, 0xbd]))).toBeUndefined(); // a U+FFFD that was sent
    expect(byteRule('a\uFFFD', Buffer.from([0x61, 0xff]))).toBe('invalid-utf8');
    expect(byteRule('x'.repeat(255))).toBeUndefined();
    expect(byteRule('x'.repeat(256))).toBe('name-too-long');
    expect(byteRule('é'.repeat(128))).toBe('name-too-long'); // 256 bytes in 128 characters
    expect(byteRule(Array.from({ length: 16 }, () => 'x'.repeat(255)).join('/'))).toBeUndefined(); // 4095 bytes
    expect(byteRule(Array.from({ length: 17 }, () => 'x'.repeat(240)).join('/'))).toBeUndefined(); // 4096 bytes
    expect(byteRule(Array.from({ length: 17 }, () => 'x'.repeat(240)).join('/') + 'x')).toBe('path-too-long');
  });
  it('fail the whole payload with messages that show the bytes and the limits', () => {
    const build = (path: string, rawPath?: Uint8Array) => () => buildPayload([{ path, ...(rawPath ? { rawPath } : {}), mode: 0o644, contents: Buffer.from('x') }], 0o644);
    expect(build('a\uFFFD', Buffer.from([0x61, 0xc3, 0x28]))).toThrow(new PayloadError('invalid file path "a\\xc3(": not valid UTF-8; file names must be sent as UTF-8'));
    expect(build('x'.repeat(300))).toThrow(/the component "x{32}"… is 300 bytes, must be at most 255/);
    expect(build(Array.from({ length: 20 }, () => 'y'.repeat(250)).join('/'))).toThrow(/5019 bytes, must be at most 4096/);
  });
  it('are read off the wire byte for byte', () => {
    const file = (path: Uint8Array) => {
      const w = protobuf.Writer.create();
      w.uint32((1 << 3) | 2).bytes(path);
      w.uint32((2 << 3) | 0).int32(0o600);
      w.uint32((3 << 3) | 2).bytes(Buffer.from('secret'));
      return w.finish();
    };
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).bytes(Buffer.from([0x0a, 0x01, 0x61])); // an object_version before the files
    w.uint32((3 << 3) | 2).bytes(file(Buffer.from([0x62, 0xff, 0x63])));
    w.uint32((3 << 3) | 2).bytes(file(Buffer.from('plain')));
    w.uint32((3 << 3) | 2).bytes(new Uint8Array(0)); // a file with no path
    expect(filePathBytes(w.finish()).map((b) => [...b])).toEqual([[0x62, 0xff, 0x63], [...Buffer.from('plain')], []]);
  });
});

describe('whose a mount is', () => {
  const kubelet = '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/v/mount';
  const entry = (fsType: string, source: string, mountPoint = kubelet) => ({ mountPoint, fsType, source, options: 'rw' });
  it('a tmpfs with source secrets-store-csi is ours anywhere', () => expect(ownershipOf(entry('tmpfs', 'secrets-store-csi', '/x'), '/x', false)).toEqual({ kind: 'ours' }));
  it('a tmpfs with source tmpfs only at a kubelet CSI path (made before this rule) or a recorded target', () => {
    expect(ownershipOf(entry('tmpfs', 'tmpfs'), kubelet, false)).toEqual({ kind: 'ours' });
    expect(ownershipOf(entry('tmpfs', 'tmpfs', '/x'), '/x', false)).toEqual({ kind: 'foreign', fsType: 'tmpfs', source: 'tmpfs' });
    expect(ownershipOf(entry('tmpfs', 'tmpfs', '/x'), '/x', true)).toEqual({ kind: 'ours' });
  });
  it('anything else is foreign, recorded or not; nothing mounted is none', () => {
    expect(ownershipOf(entry('overlay', 'overlay', '/'), '/', true)).toEqual({ kind: 'foreign', fsType: 'overlay', source: 'overlay' });
    expect(ownershipOf(entry('ext4', '/dev/sda1'), kubelet, false)).toEqual({ kind: 'foreign', fsType: 'ext4', source: '/dev/sda1' });
    expect(ownershipOf(undefined, kubelet, true)).toEqual({ kind: 'none' });
  });
});

describe('what of a target the atomic writer made', () => {
  it('..data, ..data_tmp, payload dirs and name -> ..data/name links; nothing else', () => {
    expect(
      classifyEntries([
        { name: '..data', type: 'symlink', link: '..2026_11_22_10_04_05.Ab12Cd' },
        { name: '..data_tmp', type: 'symlink', link: '..2026_11_22_10_04_06.Zz_-09' },
        { name: '..2026_11_22_10_04_05.Ab12Cd', type: 'dir' },
        { name: '..2020_01_02_03_04_05.123456789', type: 'dir' }, // the Kubernetes writer's
        { name: 'db-password', type: 'symlink', link: '..data/db-password' },
        { name: 'keys', type: 'symlink', link: '..data/keys' },
        { name: 'notes.txt', type: 'file' },
        { name: 'evil', type: 'symlink', link: '/etc' },
        { name: 'renamed', type: 'symlink', link: '..data/other' },
        { name: '..data', type: 'dir' },
        { name: '..2026_11_22_10_04_05.Ab12Cd.bak', type: 'dir' },
        { name: '..2026_11_22_10_04_07.file', type: 'file' },
        { name: 'sub', type: 'dir' },
      ]),
    ).toEqual({
      layout: ['..2020_01_02_03_04_05.123456789', '..2026_11_22_10_04_05.Ab12Cd', '..data', '..data_tmp', 'db-password', 'keys'],
      extras: ['..2026_11_22_10_04_05.Ab12Cd.bak', '..2026_11_22_10_04_07.file', '..data', 'evil', 'notes.txt', 'renamed', 'sub'],
    });
  });
});
