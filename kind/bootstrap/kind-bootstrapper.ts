/**
 * `sscsi kind up` and `sscsi kind down` as a plan of commands: check the tools, create (or
 * reuse) a kind cluster, build the driver and fake-provider images, load them into the
 * cluster's nodes, apply the CRDs and wait for them to be Established, apply the rest of
 * kind/manifests and wait for both DaemonSets to be ready. Every step is one command through
 * the `CommandRunner` boundary, so the plan — calls, order, arguments and what each failure
 * does — is tested with the runner scripted. A failed step stops the plan with a
 * `BootstrapError` naming the step, the command and the end of its output; a cluster made
 * before the failure is left for inspection (the message says how to delete it).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputTail, runOk, ToolMissingError, type CommandResult, type CommandRunner } from './command-runner.js';
import { stageImageContext } from './image-context.js';
import { buildImages, imageNames } from './images.js';
import { kindClusterExists, kindConfig } from './kind-config.js';

const crdNames = ['secretproviderclasses.secrets-store.csi.x-k8s.io', 'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io'];
const daemonSets = ['csi-secrets-store', 'fake-provider'];

export interface UpOptions {
  name: string;
  /** kindest/node image for the nodes. */
  nodeImage?: string;
  /** Use the cluster of that name if it exists (images are built and loaded again, manifests re-applied). */
  reuse: boolean;
  /** `BASE_IMAGE` build argument for both images (e.g. a locally made Node 24 base). */
  baseImage?: string;
  /**
   * Audiences the kubelet requests service-account tokens for and passes to providers
   * (the CSIDriver's tokenRequests, DESIGN §2.3); none by default.
   */
  tokenAudiences?: string[];
}

export interface BootstrapperOptions {
  runner: CommandRunner;
  /** The project root: build context, kind/Dockerfile.*, kind/manifests. */
  root: string;
  /** One line of progress. */
  log: (line: string) => void;
  /** How long to wait for the CRDs and for each DaemonSet. */
  waitTimeout?: string;
  /** Stages the images' build context (default: image-context.ts in `root`). */
  stageContext?: () => Promise<void>;
}

export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

export class KindBootstrapper {
  private readonly timeout: string;

  constructor(private readonly o: BootstrapperOptions) {
    this.timeout = o.waitTimeout ?? '180s';
  }

  /** Runs one step; a non-zero exit is a BootstrapError with the command and its output. */
  private async step(what: string, command: string, args: string[], hint = '', env?: Record<string, string>): Promise<CommandResult> {
    this.o.log(`• ${what}`);
    return runOk(this.o.runner, command, args, { cwd: this.o.root, ...(env ? { env } : {}) }, (r) => {
      const output = outputTail(r, 15);
      return new BootstrapError(`${what} failed: \`${[command, ...args].join(' ')}\` exited with ${r.exitCode}${output ? `:\n${output}` : ''}${hint ? `\n${hint}` : ''}`);
    });
  }

  /** The three tools, each answering its version command; a missing one is named. */
  async checkTools(tools: Array<'kind' | 'docker' | 'kubectl'> = ['kind', 'docker', 'kubectl']): Promise<void> {
    const versionArgs = { kind: ['version'], docker: ['version', '--format', '{{.Server.Version}}'], kubectl: ['version', '--client'] };
    for (const tool of tools) {
      const why = tool === 'docker' ? ' — is the Docker engine running?' : '';
      try {
        await runOk(this.o.runner, tool, versionArgs[tool], { cwd: this.o.root }, (r) => new BootstrapError(`${tool} ${versionArgs[tool].join(' ')} failed${why}: ${outputTail(r, 3)}`));
      } catch (err) {
        if (err instanceof ToolMissingError) throw new BootstrapError(`${err.message}: install it to run on a kind cluster, or use the simulated cluster (sscsi sim up)`);
        throw err;
      }
    }
  }

  /** Creates or reuses the cluster, deploys the driver and the fake provider; returns the kubeconfig context. */
  async up(options: UpOptions): Promise<string> {
    const context = `kind-${options.name}`;
    const kubectl = (...args: string[]) => ['--context', context, ...args];
    await this.checkTools();
    const exists = await kindClusterExists(options.name, async (command, args) => (await this.step('listing kind clusters', command, args)).stdout);
    if (exists && !options.reuse) {
      throw new BootstrapError(`a kind cluster named ${options.name} exists already: pass --reuse to deploy into it, or delete it first (sscsi kind down --name ${options.name})`);
    }
    const leftHint = `the cluster ${options.name} is left as it is for inspection; delete it with: sscsi kind down --name ${options.name}`;
    if (!exists) {
      const dir = await mkdtemp(join(tmpdir(), 'sscsi-kind-'));
      try {
        const config = join(dir, 'kind-config.yaml');
        await writeFile(config, kindConfig(options.nodeImage ? { nodeImage: options.nodeImage } : {}));
        await this.step(`creating kind cluster ${options.name} (one control plane, one worker)`, 'kind', ['create', 'cluster', '--name', options.name, '--config', config, '--wait', '120s', ...(options.nodeImage ? ['--image', options.nodeImage] : [])]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      this.o.log(`• reusing kind cluster ${options.name}`);
    }
    try {
      await (this.o.stageContext ?? (() => stageImageContext(this.o.root, this.o.runner, this.o.log).then(() => undefined)))();
    } catch (err) {
      throw new BootstrapError(`staging the image context failed: ${(err as Error).message}\n${leftHint}`);
    }
    await buildImages(this.o.runner, this.o.root, this.o.log, options.baseImage, {}, (image, args, env) => this.step(`building ${image}`, 'docker', args, leftHint, env), imageNames);
    for (const image of imageNames) {
      await this.step(`loading ${image} into the nodes`, 'kind', ['load', 'docker-image', image, '--name', options.name], leftHint);
    }
    await this.step(
      'applying the CRDs',
      'kubectl',
      kubectl('apply', '-f', 'kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml', '-f', 'kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml'),
      leftHint,
    );
    await this.step('waiting for the CRDs to be Established', 'kubectl', kubectl('wait', '--for=condition=Established', ...crdNames.map((n) => `crd/${n}`), `--timeout=${this.timeout}`), leftHint);
    if (options.tokenAudiences?.length) {
      // The CSIDriver with tokenRequests, applied in place of kind/manifests/csidriver.yaml.
      const dir = await mkdtemp(join(tmpdir(), 'sscsi-kind-manifests-'));
      try {
        const csidriver = parse(await readFile(join(this.o.root, 'kind/manifests/csidriver.yaml'), 'utf8')) as { spec: Record<string, unknown> };
        csidriver.spec.tokenRequests = options.tokenAudiences.map((audience) => ({ audience }));
        const file = join(dir, 'csidriver.yaml');
        await writeFile(file, stringify(csidriver));
        await this.step(`applying the CSIDriver with token requests for ${options.tokenAudiences.join(', ')}`, 'kubectl', kubectl('apply', '-f', file), leftHint);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const manifestFiles = (await readdir(join(this.o.root, 'kind/manifests'))).filter((f) => f.endsWith('.yaml')).sort();
      await this.step('applying kind/manifests', 'kubectl', kubectl('apply', ...manifestFiles.filter((f) => f !== 'csidriver.yaml').flatMap((f) => ['-f', `kind/manifests/${f}`])), leftHint);
    } else {
      await this.step('applying kind/manifests', 'kubectl', kubectl('apply', '-f', 'kind/manifests'), leftHint);
    }
    for (const ds of daemonSets) {
      await this.step(
        `waiting for DaemonSet kube-system/${ds} to be ready`,
        'kubectl',
        kubectl('-n', 'kube-system', 'rollout', 'status', `daemonset/${ds}`, `--timeout=${this.timeout}`),
        `see why with: kubectl --context ${context} -n kube-system describe daemonset/${ds}; kubectl --context ${context} -n kube-system logs daemonset/${ds} --all-containers\n${leftHint}`,
      );
    }
    this.o.log(`ready: kubectl --context ${context} (kubeconfig: kind get kubeconfig --name ${options.name})`);
    return context;
  }

  /** Deletes the cluster; one that does not exist is not an error. */
  async down(name: string): Promise<void> {
    await this.checkTools(['kind']);
    await this.step(`deleting kind cluster ${name}`, 'kind', ['delete', 'cluster', '--name', name]);
  }
}
