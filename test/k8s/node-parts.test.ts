/**
 * The node's pure parts, in-process (the processes are tested in node-standalone and
 * node-connected): the OCI image tar ctr imports (checked by unpacking it with tar and
 * hashing each blob, as a registry would), image references, the mirror's hosts.toml,
 * mountinfo parsing, the kubelet's flags.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../cluster/k8s/node/command.js';
import { kubeletArgs } from '../../cluster/k8s/node/kubelet-config.js';
import { isUnder, parseMountPoints } from '../../cluster/k8s/node/mounts.js';
import { tagOf, writeOciImageTar, type OciImageSpec } from '../../cluster/k8s/node/oci-image.js';
import { nodePaths } from '../../cluster/k8s/node/paths.js';
import { hostsToml, mirrorPath } from '../../cluster/k8s/node/registry-mirror.js';

const work = await mkdtemp(join(tmpdir(), 'sscsi-node-parts-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const spec: OciImageSpec = {
  names: ['docker.io/library/tiny:latest', 'registry.example/app:1'],
  entries: [
    { kind: 'content', path: '/etc/motd', content: 'hi\n', mode: 0o644 },
    { kind: 'symlink', path: '/bin/sh', target: '/bin/busybox' },
    { kind: 'dir', path: '/tmp', mode: 0o1777 },
  ],
  config: { Cmd: ['sh'] },
};

describe('OCI image tar', () => {
  it('is an OCI layout whose blobs are named by their sha256, one index entry per name', async () => {
    const tar = join(work, 'a.tar');
    const digest = await writeOciImageTar(spec, tar);
    const out = join(work, 'a');
    await run('mkdir', ['-p', out]);
    await run('tar', ['-xf', tar, '-C', out]);
    expect(JSON.parse(await readFile(join(out, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    for (const blob of await readdir(join(out, 'blobs', 'sha256'))) {
      expect(createHash('sha256').update(await readFile(join(out, 'blobs', 'sha256', blob))).digest('hex')).toBe(blob);
    }
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => [m.digest, m.annotations['io.containerd.image.name'], m.annotations['org.opencontainers.image.ref.name']])).toEqual([
      [digest, 'docker.io/library/tiny:latest', 'latest'],
      [digest, 'registry.example/app:1', '1'],
    ]);
    const manifest = JSON.parse(await readFile(join(out, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: { digest: string }[]; config: { digest: string } };
    const layer = join(out, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
    const listing = (await run('tar', ['-tvf', layer])).stdout;
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 .* \.\/etc\/motd$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 .* \.\/bin\/sh -> \/bin\/busybox$/m);
    expect(listing).toMatch(/^drwxrwxrwt 0\/0 .* \.\/tmp\/$/m);
    const config = JSON.parse(await readFile(join(out, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] }; config: unknown };
    expect(config.rootfs.diff_ids).toEqual([manifest.layers[0]!.digest]);
    expect(config.config).toEqual({ Cmd: ['sh'] });
  });

  it('is reproducible: the same files give the same manifest digest', async () => {
    expect(await writeOciImageTar(spec, join(work, 'b.tar'))).toBe(await writeOciImageTar(spec, join(work, 'c.tar')));
  });
});

describe('image references and the mirror', () => {
  it('takes the tag after the last path element, `latest` without one (a registry port is no tag)', () => {
    expect(tagOf('docker.io/library/busybox')).toBe('latest');
    expect(tagOf('docker.io/library/busybox:1.35.0')).toBe('1.35.0');
    expect(tagOf('localhost:5000/app')).toBe('latest');
    expect(tagOf('localhost:5000/app:1')).toBe('1');
  });

  it('maps docker.io and registry.k8s.io references into the mirror, nothing else', () => {
    expect(mirrorPath('docker.io/library/busybox:latest')).toBe('library/busybox:latest');
    expect(mirrorPath('registry.k8s.io/sig-storage/livenessprobe:v2.15.0')).toBe('sig-storage/livenessprobe:v2.15.0');
    expect(mirrorPath('registry.example/app:1')).toBeUndefined();
  });

  it('sends a registry’s pulls and resolves to the mirror only', () => {
    const toml = hostsToml('docker.io', 'http://127.0.0.1:5000');
    expect(toml).toContain('server = "https://registry-1.docker.io"');
    expect(toml).toContain('[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]');
  });
});

describe('mounts and flags', () => {
  it('reads mount points from mountinfo, octal escapes decoded', () => {
    const info = ['22 1 8:1 / / rw - ext4 /dev/vda rw', '30 22 0:40 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/my\\040vol/mount rw shared:5 - tmpfs tmpfs rw'].join('\n');
    expect(parseMountPoints(info)).toEqual(['/', '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/my vol/mount']);
  });

  it('counts a path as under a dir only at a path boundary', () => {
    expect(isUnder('/var/lib/kubelet/pods', '/var/lib/kubelet')).toBe(true);
    expect(isUnder('/var/lib/kubelet', '/var/lib/kubelet')).toBe(true);
    expect(isUnder('/var/lib/kubelet-other', '/var/lib/kubelet')).toBe(false);
  });

  it('gives the kubelet no loopback --node-ip unless asked, and a kubeconfig only when joined', () => {
    const paths = nodePaths('/s');
    const standalone = kubeletArgs(paths, { nodeName: 'n', port: 10250, healthzPort: 10248 });
    expect(standalone.some((a) => a.startsWith('--node-ip'))).toBe(false);
    expect(standalone.some((a) => a.startsWith('--kubeconfig'))).toBe(false);
    expect(standalone).toContain('--root-dir=/var/lib/kubelet');
    const joined = kubeletArgs(paths, { nodeName: 'n', port: 10250, healthzPort: 10248, apiServer: { kubeconfig: '/k', clientCaFile: '/ca' } });
    expect(joined).toContain('--kubeconfig=/k');
  });
});
