/**
 * A single-layer OCI image written as an OCI image-layout tar, the format `ctr images
 * import` reads: the layer is a plain (uncompressed) tar of a staged root filesystem, so its
 * digest is also its diff id. Nothing is pulled: the node's pause and busybox images are
 * made from files on this machine. Each name the image is imported under is one entry of
 * the index, carrying containerd's `io.containerd.image.name` annotation (the full
 * reference) and the OCI `ref.name` (its tag).
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from './command.js';

export type ImageEntry =
  | { kind: 'file'; path: string; from: string; mode: number }
  | { kind: 'content'; path: string; content: string; mode: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'dir'; path: string; mode: number };

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface OciImageSpec {
  /** Full references, e.g. `docker.io/library/busybox:latest`. */
  names: readonly string[];
  /** Paths are absolute inside the image (`/bin/sh`). */
  entries: readonly ImageEntry[];
  config: ImageConfig;
}

const ociArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

interface Blob {
  digest: string;
  size: number;
}

async function putBlob(layout: string, bytes: Buffer): Promise<Blob> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(layout, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

async function stageRootfs(rootfs: string, entries: readonly ImageEntry[]): Promise<void> {
  for (const e of entries) {
    const at = join(rootfs, e.path);
    await mkdir(dirname(at), { recursive: true });
    if (e.kind === 'dir') {
      await mkdir(at, { recursive: true });
      await chmod(at, e.mode);
    } else if (e.kind === 'symlink') await symlink(e.target, at);
    else {
      if (e.kind === 'file') await copyFile(e.from, at);
      else await writeFile(at, e.content);
      await chmod(at, e.mode);
    }
  }
}

/** The tag part of a reference (`latest` when it has none). */
export function tagOf(reference: string): string {
  const afterSlash = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = afterSlash.indexOf(':');
  return colon < 0 ? 'latest' : afterSlash.slice(colon + 1);
}

/**
 * Writes the image to `outFile` (an OCI layout tar); returns the manifest digest. The layer
 * tar is reproducible (sorted names, owner 0, mtime 0), so the same files give the same digest.
 */
export async function writeOciImageTar(spec: OciImageSpec, outFile: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'sscsi-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    const layout = join(work, 'layout');
    await mkdir(rootfs);
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    await stageRootfs(rootfs, spec.entries);
    const layerFile = join(work, 'layer.tar');
    await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', layerFile, '-C', rootfs, '.']);
    const layer = await putBlob(layout, await readFile(layerFile));
    const config = await putBlob(
      layout,
      Buffer.from(
        JSON.stringify({
          architecture: ociArch[process.arch] ?? process.arch,
          os: 'linux',
          config: spec.config,
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          history: [{ created_by: 'secrets-store-csi-ts cluster/k8s/node (local files, nothing pulled)' }],
        }),
      ),
    );
    const manifest = await putBlob(
      layout,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        }),
      ),
    );
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: spec.names.map((name) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...manifest,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tagOf(name) },
      })),
    };
    await writeFile(join(layout, 'index.json'), JSON.stringify(index));
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await mkdir(dirname(outFile), { recursive: true });
    await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', outFile, '-C', layout, 'oci-layout', 'index.json', 'blobs']);
    return manifest.digest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
