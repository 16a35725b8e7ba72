/**
 * `sscsi image base` and `sscsi image build`: the container images without a cluster.
 * `base` makes a Node 24 base image from this machine's Node (for engines that cannot pull
 * node:24-slim); `build` compiles nothing itself — run it after `npm run build` (npm run
 * image does both) — stages the context and builds the driver, fake-provider and sidecar images.
 */
import { packageRoot } from '../driver/version.js';
import { buildLocalBaseImage, localBaseImage } from '../kind/bootstrap/base-image.js';
import { ExecaRunner } from '../kind/bootstrap/command-runner.js';
import { stageImageContext } from '../kind/bootstrap/image-context.js';
import { buildImages, builtImageNames, driverImage, fakeProviderImage, livenessProbeImage, registrarImage } from '../kind/bootstrap/images.js';
import { parseFlags } from './parse-flags.js';

const imageUsage = `Usage: sscsi image base [--tag TAG]
       sscsi image build [--base-image IMAGE]

  base   a Node 24 base image from this machine's Node binary and its libraries (docker import),
         tagged ${localBaseImage} by default: for engines that cannot pull node:24-slim
  build  stages .image/ (dist, production dependencies) and builds ${driverImage},
         ${fakeProviderImage} and our CSI sidecars ${registrarImage}
         and ${livenessProbeImage} from kind/Dockerfile.*; run after npm run build

Options:
  --tag TAG            the base image's tag (base)
  --base-image IMAGE   BASE_IMAGE for every Dockerfile (build; default node:24-slim)

Needs docker with a running engine.
`;

export async function imageCommand(argv: string[]): Promise<number> {
  const verb = argv[0];
  if (verb !== 'base' && verb !== 'build') {
    process.stderr.write(`sscsi image: unknown command ${JSON.stringify(verb ?? '')}\n${imageUsage}`);
    return 2;
  }
  const parsed = parseFlags<{ tag?: string; 'base-image'?: string }>(`sscsi image ${verb}`, imageUsage, argv.slice(1), verb === 'base' ? { tag: { type: 'string', default: localBaseImage } } : { 'base-image': { type: 'string' } });
  if (parsed.exit !== undefined) return parsed.exit;
  const values = parsed.values;
  const runner = new ExecaRunner();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (verb === 'base') {
      process.stdout.write(`${await buildLocalBaseImage(runner, log, values.tag)}\n`);
    } else {
      const root = packageRoot();
      await stageImageContext(root, runner, log);
      await buildImages(runner, root, log, values['base-image']);
      process.stdout.write(`${builtImageNames.join('\n')}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`sscsi image ${verb}: ${(err as Error).message}\n`);
    return 1;
  }
}
