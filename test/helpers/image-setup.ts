/**
 * vitest global setup: where a Docker engine answers, build the container images once for
 * the whole run — a Node 24 base from this machine's Node (nothing can be pulled here), the
 * staged context, both Dockerfiles — so the tests that use them (test/kind/images.test.ts,
 * test/sim/docker-runtime.test.ts) run against images of this very checkout, whatever order
 * vitest runs them in. The outcome is handed to the tests (`inject('images')`): a failed
 * build fails the image tests with its message; no engine skips them, saying so.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildLocalBaseImage } from '../../kind/bootstrap/base-image.js';
import { ExecaRunner } from '../../kind/bootstrap/command-runner.js';
import { stageImageContext } from '../../kind/bootstrap/image-context.js';
import { buildImages } from '../../kind/bootstrap/images.js';
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

export const testBaseImage = 'sscsi-node-base:test';

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
    await buildLocalBaseImage(runner, quiet, testBaseImage);
    await stageImageContext(packageRoot(), runner, quiet);
    await buildImages(runner, packageRoot(), quiet, testBaseImage);
    project.provide('images', { engine, error: null, baseImage: testBaseImage });
  } catch (err) {
    project.provide('images', { engine, error: (err as Error).message, baseImage: testBaseImage });
  }
}
