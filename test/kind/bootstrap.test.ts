/**
 * The kind bootstrapper's plan, with the kind/docker/kubectl boundary scripted: which
 * commands run, in what order, with what arguments, and what each failure does. kind itself
 * cannot be installed on the machines this runs on; `sscsi kind` through its real entry point
 * is checked for the clear one-line refusal where kind is missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ToolMissingError, type CommandResult, type CommandRunner, type RunOptions } from '../../kind/bootstrap/command-runner.js';
import { BootstrapError, KindBootstrapper } from '../../kind/bootstrap/kind-bootstrapper.js';
import { root } from '../../harness/managed-process.js';

type Handler = (command: string, args: readonly string[]) => Partial<CommandResult> | 'missing' | undefined;

/** Answers every command with success unless a handler says otherwise; records the calls. */
class ScriptedRunner implements CommandRunner {
  readonly calls: string[] = [];
  readonly envs: Array<Record<string, string> | undefined> = [];
  kindConfig: unknown;
  appliedCsiDriver: unknown;
  constructor(private readonly handler: Handler = () => undefined) {}
  /** Records a step that is not a command (the context staging). */
  note(what: string): void {
    this.calls.push(what);
    this.envs.push(undefined);
  }
  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push([command, ...args].join(' '));
    this.envs.push(options.env);
    if (command === 'kind' && args[0] === 'create') this.kindConfig = parse(readFileSync(args[args.indexOf('--config') + 1]!, 'utf8'));
    const applied = args.find((a) => a.endsWith('csidriver.yaml') && a.startsWith('/'));
    if (command === 'kubectl' && applied) this.appliedCsiDriver = parse(readFileSync(applied, 'utf8'));
    const r = this.handler(command, args);
    if (r === 'missing') throw new ToolMissingError(command);
    return { exitCode: 0, stdout: '', stderr: '', ...r };
  }
}

const bootstrapper = (runner: ScriptedRunner, log: string[] = []) =>
  new KindBootstrapper({ runner, root, log: (l) => log.push(l), waitTimeout: '90s', stageContext: async () => runner.note('(stage .image)') });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a BootstrapError');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(BootstrapError);
      return (e as Error).message;
    },
  );

const toolChecks = ['kind version', 'docker version --format {{.Server.Version}}', 'kubectl version --client'];
const ctx = '--context kind-ci';

describe('sscsi kind up: the plan', () => {
  it('creates the cluster, builds and loads both images, applies the CRDs first, and waits for everything', async () => {
    const runner = new ScriptedRunner();
    const log: string[] = [];
    const context = await bootstrapper(runner, log).up({ name: 'ci', nodeImage: 'kindest/node:v1.35.0', reuse: false, baseImage: 'sscsi-base:24' });
    expect(context).toBe('kind-ci');
    const create = runner.calls[4]!;
    expect(create).toMatch(/^kind create cluster --name ci --config \S+kind-config\.yaml --wait 120s --image kindest\/node:v1\.35\.0$/);
    expect(runner.calls).toEqual([
      ...toolChecks,
      'kind get clusters',
      create,
      '(stage .image)',
      'docker build -f kind/Dockerfile.driver -t secrets-store-csi-ts/driver:dev --build-arg BASE_IMAGE=sscsi-base:24 .',
      'docker build -f kind/Dockerfile.fake-provider -t secrets-store-csi-ts/fake-provider:dev --build-arg BASE_IMAGE=sscsi-base:24 .',
      'kind load docker-image secrets-store-csi-ts/driver:dev --name ci',
      'kind load docker-image secrets-store-csi-ts/fake-provider:dev --name ci',
      `kubectl ${ctx} apply -f kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml -f kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml`,
      `kubectl ${ctx} wait --for=condition=Established crd/secretproviderclasses.secrets-store.csi.x-k8s.io crd/secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io --timeout=90s`,
      `kubectl ${ctx} apply -f kind/manifests`,
      `kubectl ${ctx} -n kube-system rollout status daemonset/csi-secrets-store --timeout=90s`,
      `kubectl ${ctx} -n kube-system rollout status daemonset/fake-provider --timeout=90s`,
    ]);
    expect(runner.kindConfig).toEqual({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      nodes: [
        { role: 'control-plane', image: 'kindest/node:v1.35.0' },
        { role: 'worker', image: 'kindest/node:v1.35.0' },
      ],
    });
    expect(log.at(-1)).toBe('ready: kubectl --context kind-ci (kubeconfig: kind get kubeconfig --name ci)');
    // The classic builder, which builds FROM a locally imported base and needs no buildx.
    const builds = runner.calls.map((c, i) => (c.startsWith('docker build') ? runner.envs[i] : null)).filter((e) => e !== null);
    expect(builds).toEqual([{ DOCKER_BUILDKIT: '0' }, { DOCKER_BUILDKIT: '0' }]);
  });

  it('the Dockerfiles and manifests it names are in the project', () => {
    for (const f of ['kind/Dockerfile.driver', 'kind/Dockerfile.fake-provider', 'kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml', 'kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml']) {
      expect(() => readFileSync(join(root, f))).not.toThrow();
    }
  });

  it('deploys into an existing cluster with --reuse, and refuses to without it', async () => {
    const existing: Handler = (c, a) => (c === 'kind' && a[0] === 'get' ? { stdout: 'other\nci\n' } : undefined);
    const reused = new ScriptedRunner(existing);
    await bootstrapper(reused).up({ name: 'ci', reuse: true });
    expect(reused.calls.some((c) => c.startsWith('kind create'))).toBe(false);
    expect(reused.calls).toContain('kind load docker-image secrets-store-csi-ts/driver:dev --name ci');

    const refused = new ScriptedRunner(existing);
    expect(await failure(bootstrapper(refused).up({ name: 'ci', reuse: false }))).toBe(
      'a kind cluster named ci exists already: pass --reuse to deploy into it, or delete it first (sscsi kind down --name ci)',
    );
    expect(refused.calls).toEqual([...toolChecks, 'kind get clusters']);
  });

  it.each([
    ['kind', 'kind is not installed (no kind on PATH): install it to run on a kind cluster, or use the simulated cluster (sscsi sim up)', 1],
    ['docker', 'docker is not installed (no docker on PATH): install it to run on a kind cluster, or use the simulated cluster (sscsi sim up)', 2],
    ['kubectl', 'kubectl is not installed (no kubectl on PATH): install it to run on a kind cluster, or use the simulated cluster (sscsi sim up)', 3],
  ])('stops at once, in one line, when %s is missing', async (tool, message, calls) => {
    const runner = new ScriptedRunner((c) => (c === tool ? 'missing' : undefined));
    expect(await failure(bootstrapper(runner).up({ name: 'ci', reuse: false }))).toBe(message);
    expect(runner.calls).toHaveLength(calls);
  });

  it('says the Docker engine is not running when docker answers but its server does not', async () => {
    const runner = new ScriptedRunner((c) => (c === 'docker' ? { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } : undefined));
    expect(await failure(bootstrapper(runner).up({ name: 'ci', reuse: false }))).toMatch(/^docker version --format \{\{\.Server\.Version\}\} failed — is the Docker engine running\?: Cannot connect to the Docker daemon/);
  });

  it('stops at a failed image build, names the command and its output, loads nothing and leaves the cluster for inspection', async () => {
    const runner = new ScriptedRunner((c, a) => (c === 'docker' && a[0] === 'build' && a.includes('kind/Dockerfile.driver') ? { exitCode: 1, stdout: 'Step 1/9 : FROM node:24-slim', stderr: 'pull access denied for node' } : undefined));
    const message = await failure(bootstrapper(runner).up({ name: 'ci', reuse: false }));
    expect(message).toBe(
      'building secrets-store-csi-ts/driver:dev failed: `docker build -f kind/Dockerfile.driver -t secrets-store-csi-ts/driver:dev .` exited with 1:\nStep 1/9 : FROM node:24-slim\npull access denied for node\nthe cluster ci is left as it is for inspection; delete it with: sscsi kind down --name ci',
    );
    expect(runner.calls.filter((c) => c.startsWith('kind load') || c.startsWith('kubectl') && !c.includes('version'))).toEqual([]);
  });

  it('names the DaemonSet that did not become ready and how to see why', async () => {
    const runner = new ScriptedRunner((c, a) => (c === 'kubectl' && a.includes('daemonset/csi-secrets-store') ? { exitCode: 1, stderr: 'error: timed out waiting for the condition' } : undefined));
    const message = await failure(bootstrapper(runner).up({ name: 'ci', reuse: false }));
    expect(message).toContain('waiting for DaemonSet kube-system/csi-secrets-store to be ready failed');
    expect(message).toContain('timed out waiting for the condition');
    expect(message).toContain('kubectl --context kind-ci -n kube-system describe daemonset/csi-secrets-store');
    expect(runner.calls.at(-1)).toBe(`kubectl ${ctx} -n kube-system rollout status daemonset/csi-secrets-store --timeout=90s`);
  });

  it('does not wait for the DaemonSets when the CRDs never become Established', async () => {
    const runner = new ScriptedRunner((c, a) => (c === 'kubectl' && a.includes('wait') ? { exitCode: 1, stderr: 'error: timed out waiting for the condition on customresourcedefinitions/secretproviderclasses.secrets-store.csi.x-k8s.io' } : undefined));
    expect(await failure(bootstrapper(runner).up({ name: 'ci', reuse: false }))).toMatch(/^waiting for the CRDs to be Established failed/);
    expect(runner.calls.some((c) => c.includes('apply -f kind/manifests') && !c.includes('.yaml'))).toBe(false);
  });
});

describe('sscsi kind up --token-audience', () => {
  it('applies the CSIDriver with tokenRequests for the audiences, then the other manifests file by file', async () => {
    const runner = new ScriptedRunner();
    await bootstrapper(runner).up({ name: 'ci', reuse: false, tokenAudiences: ['api://AzureADTokenExchange', 'vault'] });
    expect(runner.appliedCsiDriver).toMatchObject({
      kind: 'CSIDriver',
      metadata: { name: 'secrets-store.csi.k8s.io' },
      spec: { requiresRepublish: true, tokenRequests: [{ audience: 'api://AzureADTokenExchange' }, { audience: 'vault' }] },
    });
    const rest = runner.calls.find((c) => c.startsWith(`kubectl ${ctx} apply -f kind/manifests/fake-provider.yaml`))!;
    expect(rest).toBeDefined();
    expect(rest).not.toContain('csidriver.yaml');
    expect(rest).toContain('-f kind/manifests/secrets-store-csi-driver.yaml');
    expect(runner.calls).not.toContain(`kubectl ${ctx} apply -f kind/manifests`);
  });
});

describe('sscsi kind down', () => {
  it('deletes the cluster by name', async () => {
    const runner = new ScriptedRunner();
    await bootstrapper(runner).down('ci');
    expect(runner.calls).toEqual(['kind version', 'kind delete cluster --name ci']);
  });
});

describe('sscsi kind, the command', () => {
  const run = promisify(execFile);
  const sscsi = (...args: string[]) =>
    run(process.execPath, [join(root, 'dist/cli/main.js'), 'kind', ...args]).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const kindInstalled = (() => {
    try {
      execFileSync('kind', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(kindInstalled)('says in one line that kind is missing and exits 1 (kind is not installed here)', async () => {
    for (const verb of ['up', 'down']) {
      const r = await sscsi(verb);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`sscsi kind ${verb}: kind is not installed (no kind on PATH): install it to run on a kind cluster, or use the simulated cluster (sscsi sim up)\n`);
    }
  });

  it('rejects bad usage with exit code 2', async () => {
    for (const args of [['sideways'], ['up', '--name', 'Bad_Name'], ['up', '--timeout', 'soon'], ['down', '--reuse']]) {
      const r = await sscsi(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^sscsi kind/);
    }
  });
});
