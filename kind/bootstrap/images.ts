/**
 * The two images and how they are built: the staged context (image-context.ts), then
 * `docker build` of kind/Dockerfile.driver and kind/Dockerfile.fake-provider with the
 * classic builder (DOCKER_BUILDKIT=0: it builds FROM a locally imported base and needs no
 * buildx plugin).
 */
import type { CommandRunner } from './command-runner.js';

export const driverImage = 'secrets-store-csi-ts/driver:dev';
export const fakeProviderImage = 'secrets-store-csi-ts/fake-provider:dev';

export const imageBuilds = [
  { image: driverImage, dockerfile: 'kind/Dockerfile.driver' },
  { image: fakeProviderImage, dockerfile: 'kind/Dockerfile.fake-provider' },
] as const;

export function dockerBuildArgs(dockerfile: string, image: string, baseImage?: string, labels: Record<string, string> = {}): string[] {
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

export const dockerBuildEnv = { DOCKER_BUILDKIT: '0' };

/** Builds both images from an already staged context; throws naming the image on failure. */
export async function buildImages(runner: CommandRunner, root: string, log: (line: string) => void, baseImage?: string, labels: Record<string, string> = {}): Promise<void> {
  for (const { image, dockerfile } of imageBuilds) {
    log(`• building ${image}`);
    const r = await runner.run('docker', dockerBuildArgs(dockerfile, image, baseImage, labels), { cwd: root, env: dockerBuildEnv });
    if (r.exitCode !== 0) throw new Error(`docker build of ${image} exited with ${r.exitCode}: ${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n')}`);
  }
}
