/**
 * The images' build context: `.image/` at the project root holds exactly what the images
 * carry — package.json, the compiled dist/, the fake provider's default store and the
 * production dependencies (`npm ci --omit=dev`, no install scripts: koffi ships its
 * binaries) — and the root .dockerignore sends nothing else to the Docker engine. Staging it
 * on the host is what lets the same Dockerfiles build FROM a base without npm or network.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from './command-runner.js';

export const imageContextDir = '.image';

export async function stageImageContext(root: string, runner: CommandRunner, log: (line: string) => void): Promise<string> {
  const dir = join(root, imageContextDir);
  log(`• staging the image context in ${imageContextDir}/ (dist, production dependencies)`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'fake-providers', 'examples'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) await cp(join(root, f), join(dir, f));
  await cp(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  await cp(join(root, 'fake-providers', 'examples', 'store.yaml'), join(dir, 'fake-providers', 'examples', 'store.yaml'));
  const r = await runner.run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
  if (r.exitCode !== 0) throw new Error(`npm ci --omit=dev in ${dir} exited with ${r.exitCode}: ${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-10).join('\n')}`);
  return dir;
}
