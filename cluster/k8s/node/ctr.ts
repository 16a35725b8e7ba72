/**
 * Our containerd through its own client, `ctr`, in the CRI's `k8s.io` namespace (the one the
 * kubelet's pods live in): importing images, and listing, killing and deleting containers when
 * the node stops.
 */
import { run } from './command.js';

export const ctrBinary = 'ctr';
export const criNamespace = 'k8s.io';

export class Ctr {
  constructor(
    readonly socket: string,
    readonly namespace = criNamespace,
  ) {}

  private args(rest: readonly string[]): string[] {
    return ['--address', this.socket, '--namespace', this.namespace, ...rest];
  }

  async run(...rest: string[]): Promise<string> {
    return (await run(ctrBinary, this.args(rest))).stdout;
  }

  /** Whether containerd answers on the socket. */
  async answers(): Promise<boolean> {
    return run(ctrBinary, ['--address', this.socket, '--timeout', '2s', 'version']).then(
      () => true,
      () => false,
    );
  }

  /** A plugin's status as `ctr plugins ls` prints it (`ok`, `skip`, `error`), undefined if absent. */
  async pluginStatus(type: string, id: string): Promise<string | undefined> {
    const out = await this.run('plugins', 'ls');
    const row = out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[0] === type && cols[1] === id);
    return row?.[row.length - 1];
  }

  /** Imports an image tar (OCI layout or `docker save`), unpacked for the default snapshotter. */
  async importImage(tar: string): Promise<void> {
    await this.run('images', 'import', tar);
  }

  async imageNames(): Promise<string[]> {
    return (await this.run('images', 'ls', '--quiet')).split('\n').filter(Boolean);
  }

  async containerIds(): Promise<string[]> {
    return (await this.run('containers', 'ls', '--quiet')).split('\n').filter(Boolean);
  }

  /** Kills the container's task (SIGKILL) and deletes task and container; a missing task is fine. */
  async removeContainer(id: string): Promise<void> {
    await this.run('tasks', 'kill', '--signal', 'SIGKILL', id).catch(() => undefined);
    await this.run('tasks', 'delete', '--force', id).catch(() => undefined);
    await this.run('containers', 'delete', id);
  }
}
