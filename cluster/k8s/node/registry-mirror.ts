/**
 * A registry on 127.0.0.1 (Debian's docker-registry, the CNCF distribution registry) that
 * containerd uses as the mirror of docker.io and registry.k8s.io, so pods with the default
 * pull policy (`Always` for `:latest` and untagged images) run as they would anywhere: the
 * kubelet asks containerd to pull, containerd resolves through the mirror, and the mirror
 * holds what the node imported — nothing comes from outside the machine.
 *
 * The registry stores under the node's dir and listens on a free loopback port; containerd
 * finds it through `hosts.toml` files (its registry `config_path`), one per mirrored registry.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../../harness/free-port.js';
import type { Ctr } from './ctr.js';
import { startDaemon, type Daemon } from './daemon.js';
import { logTail } from './log-tail.js';
import type { NodePaths } from './paths.js';

export const registryBinary = '/usr/bin/docker-registry';
export const mirroredRegistries = ['docker.io', 'registry.k8s.io'] as const;

export interface RegistryPaths {
  config: string;
  data: string;
  log: string;
}

export function registryPaths(paths: NodePaths): RegistryPaths {
  const dir = join(paths.dir, 'registry');
  return { config: join(dir, 'config.yml'), data: join(dir, 'data'), log: join(paths.dir, 'registry.log') };
}

function registryConfig(r: RegistryPaths, port: number): string {
  return `# Written by secrets-store-csi-ts (cluster/k8s/node/registry-mirror.ts).
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(r.data)}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`;
}

/** containerd's hosts.toml for one mirrored registry: pulls and resolves go to the local registry only. */
export function hostsToml(registry: string, mirror: string): string {
  const upstream = registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
  return `# Written by secrets-store-csi-ts: ${registry} is mirrored by the node's local registry.
server = ${JSON.stringify(upstream)}

[host.${JSON.stringify(mirror)}]
  capabilities = ["pull", "resolve"]
`;
}

/** Writes the hosts.toml files containerd reads (before containerd starts). */
export async function writeMirrorHosts(paths: NodePaths, port: number): Promise<void> {
  for (const registry of mirroredRegistries) {
    const dir = join(paths.containerd.certsDir, registry);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'hosts.toml'), hostsToml(registry, `http://127.0.0.1:${port}`));
  }
}

export interface RunningRegistry {
  daemon: Daemon;
  port: number;
}

export async function startRegistry(paths: NodePaths, timeoutMs: number): Promise<RunningRegistry> {
  const r = registryPaths(paths);
  await mkdir(r.data, { recursive: true });
  const port = await freePort();
  await writeFile(r.config, registryConfig(r, port));
  const daemon = startDaemon(registryBinary, ['serve', r.config], r.log);
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.hasExited()) throw new Error(`docker-registry exited (${await daemon.exited}); ${await logTail(r.log)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return { daemon, port };
    if (Date.now() > until) throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within ${timeoutMs} ms; ${await logTail(r.log)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The path a reference has in the mirror: `docker.io/library/busybox:latest` → `library/busybox:latest`. */
export function mirrorPath(reference: string): string | undefined {
  const registry = mirroredRegistries.find((r) => reference.startsWith(`${r}/`));
  return registry ? reference.slice(registry.length + 1) : undefined;
}

/** Pushes each image (already in containerd) to the mirror under its path there; others are skipped. */
export async function pushToMirror(ctr: Ctr, port: number, references: readonly string[]): Promise<string[]> {
  const pushed: string[] = [];
  for (const ref of references) {
    const path = mirrorPath(ref);
    if (!path) continue;
    await ctr.run('images', 'push', '--plain-http', `127.0.0.1:${port}/${path}`, ref);
    pushed.push(ref);
  }
  return pushed;
}
