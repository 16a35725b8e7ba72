/**
 * vitest global setup: where a Docker engine answers, build the container images once for
 * the whole run (or keep those already built from the same compiled files, by a digest label) — a Node 24 base from this machine's Node (nothing can be pulled here), the
 * staged context, every Dockerfile (driver, fake provider, our two CSI sidecars) — so the tests that use them (test/kind/images.test.ts,
 * test/sim/docker-runtime.test.ts) run against images of this very checkout, whatever order
 * vitest runs them in. The outcome is handed to the tests (`inject('images')`): a failed
 * build fails the image tests with its message; no engine skips them, saying so.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildLocalBaseImage } from '../../kind/bootstrap/base-image.js';
import { ExecaRunner } from '../../kind/bootstrap/command-runner.js';
import { imageContextFiles, stageImageContext } from '../../kind/bootstrap/image-context.js';
import { buildImages, builtImageNames } from '../../kind/bootstrap/images.js';
import { packageRoot } from '../../driver/version.js';

export interface ImagesOutcome {
  /** The engine's version, or '' when none answers. */
  engine: string;
  /** Why the images could not be built, or null when they were. */
  error: string | null;
  baseImage: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    images: ImagesOutcome;
  }
}

const testBaseImage = 'sscsi-node-base:test';
const contextLabel = 'secrets-store-csi-ts.context';

/** A digest of what the images carry: the files the context copies (image-context.ts), every compiled file. */
async function contextDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of imageContextFiles) hash.update(await readFile(join(root, f)));
  const files = (await readdir(join(root, 'dist'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && !e.name.endsWith('.map')).map((e) => join(e.parentPath, e.name)).sort();
  for (const f of files) hash.update(f).update(await readFile(f));
  return hash.digest('hex').slice(0, 32);
}

const labelOf = (image: string) => {
  try {
    return execFileSync('docker', ['image', 'inspect', '-f', `{{index .Config.Labels "${contextLabel}"}}`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};

export default async function setup(project: TestProject): Promise<void> {
  let engine = '';
  try {
    engine = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    engine = '';
  }
  if (!engine) {
    project.provide('images', { engine: '', error: 'no Docker engine answers `docker version`', baseImage: testBaseImage });
    return;
  }
  const runner = new ExecaRunner();
  const quiet = () => undefined;
  try {
    // Images already built from exactly this checkout's compiled files are kept (a run of
    // one test file need not rebuild them); anything else is built afresh.
    const digest = await contextDigest(packageRoot());
    if (builtImageNames.every((image) => labelOf(image) === digest)) {
      project.provide('images', { engine, error: null, baseImage: testBaseImage });
      return;
    }
    await buildLocalBaseImage(runner, quiet, testBaseImage);
    await stageImageContext(packageRoot(), runner, quiet);
    await buildImages(runner, packageRoot(), quiet, testBaseImage, { [contextLabel]: digest });
    project.provide('images', { engine, error: null, baseImage: testBaseImage });
  } catch (err) {
    project.provide('images', { engine, error: (err as Error).message, baseImage: testBaseImage });
  }
}
