/**
 * The two images and how they are built: the staged context (image-context.ts), then
 * `docker build` of kind/Dockerfile.driver and kind/Dockerfile.fake-provider with the
 * classic builder (DOCKER_BUILDKIT=0: it builds FROM a locally imported base and needs no
 * buildx plugin).
 */
import { outputTail, runOk, type CommandRunner } from './command-runner.js';

export const driverImage = 'secrets-store-csi-ts/driver:dev';
export const fakeProviderImage = 'secrets-store-csi-ts/fake-provider:dev';

const imageBuilds = [
  { image: driverImage, dockerfile: 'kind/Dockerfile.driver' },
  { image: fakeProviderImage, dockerfile: 'kind/Dockerfile.fake-provider' },
] as const;

function dockerBuildArgs(dockerfile: string, image: string, baseImage?: string, labels: Record<string, string> = {}): string[] {
  return [
    'build',
    '-f',
    dockerfile,
    '-t',
    image,
    ...(baseImage ? ['--build-arg', `BASE_IMAGE=${baseImage}`] : []),
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '.',
  ];
}

const dockerBuildEnv = { DOCKER_BUILDKIT: '0' };

/** The tags of both images, in build order. */
export const imageNames: readonly string[] = imageBuilds.map((b) => b.image);

/** Runs one image's `docker build` (these arguments and environment, in the project root); throws on failure. */
export type ImageBuildStep = (image: string, args: string[], env: Record<string, string>) => Promise<unknown>;

/**
 * Builds both images from an already staged context. By default each build is logged and a
 * failure throws naming the image; `step` runs the builds another way (the bootstrapper's steps).
 */
export async function buildImages(runner: CommandRunner, root: string, log: (line: string) => void, baseImage?: string, labels: Record<string, string> = {}, step?: ImageBuildStep): Promise<void> {
  const build: ImageBuildStep =
    step ??
    ((image, args, env) => {
      log(`• building ${image}`);
      return runOk(runner, 'docker', args, { cwd: root, env }, (r) => new Error(`docker build of ${image} exited with ${r.exitCode}: ${outputTail(r, 15)}`));
    });
  for (const { image, dockerfile } of imageBuilds) await build(image, dockerBuildArgs(dockerfile, image, baseImage, labels), dockerBuildEnv);
}
