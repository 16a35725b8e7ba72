/**
 * The images and how they are built: the staged context (image-context.ts), then `docker
 * build` of kind/Dockerfile.* with the classic builder (DOCKER_BUILDKIT=0: it builds FROM a
 * locally imported base and needs no buildx plugin). Besides the driver and the fake
 * provider, our CSI sidecars (sidecars/) in images of their own, standing in for upstream's
 * sig-storage sidecar images where those cannot be pulled (standInImage).
 */
import { outputTail, runOk, type CommandRunner } from './command-runner.js';

export const driverImage = 'secrets-store-csi-ts/driver:dev';
export const fakeProviderImage = 'secrets-store-csi-ts/fake-provider:dev';
export const registrarImage = 'secrets-store-csi-ts/csi-node-driver-registrar:dev';
export const livenessProbeImage = 'secrets-store-csi-ts/livenessprobe:dev';

const imageBuilds = [
  { image: driverImage, dockerfile: 'kind/Dockerfile.driver' },
  { image: fakeProviderImage, dockerfile: 'kind/Dockerfile.fake-provider' },
  // The same base and the same context as the driver's: the layers below the entrypoint are shared.
  { image: registrarImage, dockerfile: 'kind/Dockerfile.csi-node-driver-registrar' },
  { image: livenessProbeImage, dockerfile: 'kind/Dockerfile.livenessprobe' },
] as const;

/**
 * Upstream's sidecar images the manifests name (kind/manifests/secrets-store-csi-driver.yaml,
 * any tag), by repository, and ours standing in for them.
 */
const sidecarStandIns: Readonly<Record<string, string>> = {
  'registry.k8s.io/sig-storage/csi-node-driver-registrar': registrarImage,
  'registry.k8s.io/sig-storage/livenessprobe': livenessProbeImage,
};

/** An image reference's repository: without `@digest` and without `:tag` (a `:` after the last `/`). */
function repositoryOf(image: string): string {
  const name = image.split('@')[0]!;
  const tag = name.lastIndexOf(':');
  return tag > name.lastIndexOf('/') ? name.slice(0, tag) : name;
}

/**
 * The image to run in place of `image` where upstream's sidecar images cannot be pulled (the
 * k8s target applies it to the manifests): ours for upstream's node-driver-registrar and
 * livenessprobe, whatever the tag; any other image unchanged. The manifests keep upstream's
 * names, which a kind cluster with a registry pulls.
 */
export function standInImage(image: string): string {
  return sidecarStandIns[repositoryOf(image)] ?? image;
}

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

/** Every image `buildImages` builds, in build order. */
export const builtImageNames: readonly string[] = imageBuilds.map((b) => b.image);

/** The images of ours a kind cluster loads: its nodes pull upstream's sidecars. */
export const imageNames: readonly string[] = [driverImage, fakeProviderImage];

/** Runs one image's `docker build` (these arguments and environment, in the project root); throws on failure. */
export type ImageBuildStep = (image: string, args: string[], env: Record<string, string>) => Promise<unknown>;

/**
 * Builds the images (`only`: those of these names; default every one) from an already staged
 * context. By default each build is logged and a failure throws naming the image; `step` runs
 * the builds another way (the bootstrapper's steps).
 */
export async function buildImages(
  runner: CommandRunner,
  root: string,
  log: (line: string) => void,
  baseImage?: string,
  labels: Record<string, string> = {},
  step?: ImageBuildStep,
  only: readonly string[] = builtImageNames,
): Promise<void> {
  const build: ImageBuildStep =
    step ??
    ((image, args, env) => {
      log(`• building ${image}`);
      return runOk(runner, 'docker', args, { cwd: root, env }, (r) => new Error(`docker build of ${image} exited with ${r.exitCode}: ${outputTail(r, 15)}`));
    });
  for (const { image, dockerfile } of imageBuilds.filter((b) => only.includes(b.image))) await build(image, dockerBuildArgs(dockerfile, image, baseImage, labels), dockerBuildEnv);
}
