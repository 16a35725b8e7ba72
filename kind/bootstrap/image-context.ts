/**
 * The images' build context: `.image/` at the project root holds exactly what the images
 * carry — package.json, the compiled dist/, the fake provider's default store and the
 * production dependencies (`npm ci --omit=dev`, no install scripts: koffi ships its
 * binaries) — and the root .dockerignore sends nothing else to the Docker engine. Staging it
 * on the host is what lets the same Dockerfiles build FROM a base without npm or network.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { outputTail, runOk, type CommandRunner } from './command-runner.js';

const imageContextDir = '.image';

/**
 * The project files the context carries as they are, besides dist/ (without source maps):
 * what the images are made of, so also what a digest of an image's content must cover.
 */
export const imageContextFiles: readonly string[] = [
  'package.json',
  'package-lock.json',
  'fake-providers/examples/store.yaml',
  // The sidecar images' entrypoints, at the paths upstream's images keep their binaries.
  'kind/entrypoints/csi-node-driver-registrar',
  'kind/entrypoints/livenessprobe',
];

export async function stageImageContext(root: string, runner: CommandRunner, log: (line: string) => void): Promise<string> {
  const dir = join(root, imageContextDir);
  log(`• staging the image context in ${imageContextDir}/ (dist, production dependencies)`);
  await rm(dir, { recursive: true, force: true });
  for (const f of imageContextFiles) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await cp(join(root, f), join(dir, f));
  }
  await cp(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  await runOk(runner, 'npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir }, (r) => new Error(`npm ci --omit=dev in ${dir} exited with ${r.exitCode}: ${outputTail(r, 10)}`));
  return dir;
}
