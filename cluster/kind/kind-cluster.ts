/**
 * The kind target of the `Cluster` interface (cluster/cluster.ts): scenarios written once
 * run against a kind cluster made by `sscsi kind up`, with the real kubelet. What every
 * DaemonSet-backed target does (driver restarts by deleting its pod, provider outages by the
 * node label, driver flags patched in, metrics through the pod proxy) is
 * cluster/daemonset-target.ts; this file says how kind is reached: the kubeconfig from
 * `kind get kubeconfig`, kubectl with the `kind-<name>` context, a node's files through
 * `docker exec` (a kind node is a container), the fake provider's control API through
 * `kubectl port-forward`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileStat } from '../cluster.js';
import { startDaemonSetTarget, type NodeFiles, type StartedDaemonSetTarget } from '../daemonset-target.js';
import { KubeObjects } from '../kube-objects.js';
import { outputTail, runOk, type CommandResult, type CommandRunner } from '../../kind/bootstrap/command-runner.js';
import { kindClusterExists } from '../../kind/bootstrap/kind-config.js';
import type { PortForwarder } from './port-forward.js';

export { fakeProviderOffLabel } from '../daemonset-target.js';

export interface KindClusterOptions {
  name: string;
  runner: CommandRunner;
  forwarder: PortForwarder;
  /** Extra driver flags the scenarios need (patched into the driver DaemonSet). */
  driverArgs?: string[];
  /** How long to wait for a DaemonSet pod to be ready again. */
  readyTimeoutMs?: number;
}

export class KindClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KindClusterError';
  }
}

export interface StartedKindCluster extends StartedDaemonSetTarget {
  readonly context: string;
}

export class KindCluster {
  constructor(private readonly o: KindClusterOptions) {}

  private async run(command: string, args: string[]): Promise<string> {
    const failed = (r: CommandResult) => new KindClusterError(`\`${[command, ...args].join(' ')}\` exited with ${r.exitCode}: ${outputTail(r, 5)}`);
    return (await runOk(this.o.runner, command, args, undefined, failed)).stdout;
  }

  async start(): Promise<StartedKindCluster> {
    const { name, runner } = this.o;
    const context = `kind-${name}`;
    if (!(await kindClusterExists(name, (command, args) => this.run(command, args)))) throw new KindClusterError(`no kind cluster named ${name}: create one with sscsi kind up --name ${name}`);
    const dir = await mkdtemp(join(tmpdir(), 'sscsi-kind-target-'));
    const removeDir = () => rm(dir, { recursive: true, force: true });
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, await this.run('kind', ['get', 'kubeconfig', '--name', name]), { mode: 0o600 });
      // Workers first: scenario pods run there, and drivers()[0] is the driver they meet.
      const nodeNames = (await this.run('kind', ['get', 'nodes', '--name', name]))
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .sort((a, b) => Number(a.endsWith('-control-plane')) - Number(b.endsWith('-control-plane')) || a.localeCompare(b));
      const exec = (node: string, ...args: string[]) => this.run('docker', ['exec', node, ...args]);
      const files: NodeFiles = {
        read: async (node, path) => Buffer.from((await exec(node, 'base64', '-w0', path)).trim(), 'base64'),
        async stat(node, path): Promise<FileStat> {
          const [ino, mtime, mode, size, gid] = (await runner.run('docker', ['exec', node, 'stat', '-L', '-c', '%i %Y %a %s %g', path])).stdout.trim().split(' ').map((x, i) => (i === 2 ? parseInt(x, 8) : Number(x)));
          if ([ino, mtime, mode, size, gid].some((v) => v === undefined || Number.isNaN(v))) throw new KindClusterError(`cannot stat ${path} on ${node}`);
          return { ino: ino!, mtimeMs: mtime! * 1000, mode: mode!, size: size!, gid: gid! };
        },
        mountInfo: async (node) => (await runner.run('docker', ['exec', node, 'cat', '/proc/self/mountinfo'])).stdout,
        list: async (node, path) => (await runner.run('docker', ['exec', node, 'ls', '-1', path])).stdout.split('\n').map((l) => l.trim()).filter(Boolean),
      };
      const started = await startDaemonSetTarget({
        target: 'kind',
        kubeconfig,
        objects: new KubeObjects(kubeconfig),
        kubectl: (...args) => this.run('kubectl', ['--context', context, ...args]),
        kubectlFlags: ['--context', context],
        nodeNames,
        files,
        reach: { reach: (pod, port) => this.o.forwarder.forward(context, pod.metadata.namespace!, pod.metadata.name!, port) },
        error: (message) => new KindClusterError(message),
        onStop: removeDir,
        ...(this.o.driverArgs ? { driverArgs: this.o.driverArgs } : {}),
        ...(this.o.readyTimeoutMs !== undefined ? { readyTimeoutMs: this.o.readyTimeoutMs } : {}),
      });
      return { ...started, context };
    } catch (err) {
      await removeDir().catch(() => undefined);
      throw err;
    }
  }
}
