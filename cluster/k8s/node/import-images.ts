/**
 * Filling the node's image store (containerd's `k8s.io` namespace) without any pull: the
 * pause and busybox images made from local files (node-images.ts), and images the local
 * Docker engine holds (`docker save`, e.g. our driver and fake-provider images that
 * `sscsi image build` makes, and the TypeScript CSI sidecars), each under its own name.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './command.js';
import type { Ctr } from './ctr.js';
import { makeBusyboxImage, makePauseImage } from './node-images.js';

/** Images taken from the Docker engine when it has them (`sscsi image build` makes ours). */
export const dockerImagesForNode: readonly string[] = [
  'secrets-store-csi-ts/driver:dev',
  'secrets-store-csi-ts/fake-provider:dev',
  'secrets-store-csi-ts/csi-node-driver-registrar:dev',
  'secrets-store-csi-ts/livenessprobe:dev',
];

export interface ImportReport {
  imported: string[];
  /** Docker images not imported, each with the reason. */
  skipped: { image: string; reason: string }[];
}

/** The image's Docker id, or why it cannot be taken from the engine. */
async function dockerImageId(image: string): Promise<{ id: string } | { why: string }> {
  try {
    return { id: (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim() };
  } catch (e) {
    const msg = (e as Error).message;
    if (/No such image/i.test(msg)) return { why: `not in the Docker engine (build it: npm run build && npm run sscsi -- image build)` };
    return { why: `the Docker engine did not answer: ${msg.split('\n').slice(-1)[0]}` };
  }
}

/**
 * Imports the engine's images with one `docker save` of them all, so the layers they share
 * (our images share their Node base) are written and unpacked once. The tar is kept in the
 * node's images dir under a name made of the images' ids: a next start with the same images
 * skips the save.
 */
async function importFromDocker(ctr: Ctr, imagesDir: string, images: readonly { image: string; id: string }[]): Promise<void> {
  if (images.length === 0) return;
  const key = createHash('sha256')
    .update(images.map((i) => `${i.image}=${i.id}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const tar = join(imagesDir, `docker-images-${key}.tar`);
  if (!existsSync(tar)) {
    for (const old of (await readdir(imagesDir)).filter((f) => f.startsWith('docker-images-'))) await rm(join(imagesDir, old), { force: true });
    const partial = `${tar}.partial`;
    await run('docker', ['save', '--output', partial, ...images.map((i) => i.image)]);
    await rename(partial, tar);
  }
  await ctr.importImage(tar);
}

export async function importNodeImages(ctr: Ctr, imagesDir: string, dockerImages: readonly string[]): Promise<ImportReport> {
  await mkdir(imagesDir, { recursive: true });
  const report: ImportReport = { imported: [], skipped: [] };
  const pause = await makePauseImage(imagesDir);
  await ctr.importImage(pause);
  const busybox = await makeBusyboxImage(imagesDir);
  await ctr.importImage(busybox.tar);
  report.imported.push('pause', ...busybox.names);
  const fromDocker: { image: string; id: string }[] = [];
  for (const image of dockerImages) {
    const found = await dockerImageId(image);
    if ('why' in found) report.skipped.push({ image, reason: found.why });
    else fromDocker.push({ image, id: found.id });
  }
  await importFromDocker(ctr, imagesDir, fromDocker);
  report.imported.push(...fromDocker.map((i) => i.image));
  return report;
}
