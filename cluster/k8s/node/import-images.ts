/**
 * Filling the node's image store (containerd's `k8s.io` namespace) without any pull: the
 * pause and busybox images made from local files (node-images.ts), and images the local
 * Docker engine holds (`docker save`, e.g. our driver and fake-provider images that
 * `sscsi image build` makes, and the TypeScript CSI sidecars), each under its own name.
 */
import { mkdir, rm } from 'node:fs/promises';
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

async function dockerHas(image: string): Promise<string | undefined> {
  try {
    await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image]);
    return undefined;
  } catch (e) {
    const msg = (e as Error).message;
    if (/No such image/i.test(msg)) return `not in the Docker engine (build it: npm run build && npm run sscsi -- image build)`;
    return `the Docker engine did not answer: ${msg.split('\n').slice(-1)[0]}`;
  }
}

export async function importNodeImages(ctr: Ctr, imagesDir: string, dockerImages: readonly string[]): Promise<ImportReport> {
  await mkdir(imagesDir, { recursive: true });
  const report: ImportReport = { imported: [], skipped: [] };
  const pause = await makePauseImage(imagesDir);
  await ctr.importImage(pause);
  const busybox = await makeBusyboxImage(imagesDir);
  await ctr.importImage(busybox.tar);
  report.imported.push('pause', ...busybox.names);
  for (const image of dockerImages) {
    const why = await dockerHas(image);
    if (why) {
      report.skipped.push({ image, reason: why });
      continue;
    }
    const tar = join(imagesDir, `${image.replace(/[^a-zA-Z0-9._-]/g, '_')}.tar`);
    try {
      await run('docker', ['save', '--output', tar, image]);
      await ctr.importImage(tar);
      report.imported.push(image);
    } finally {
      await rm(tar, { force: true });
    }
  }
  return report;
}
