/**
 * The simulated cluster's `--runtime docker`: the driver and the fake providers as
 * containers on a local Docker engine (through testcontainers), shaped like their DaemonSet
 * pods — the images of kind/Dockerfile.*, the same flags, the cluster's root directory
 * bind-mounted at the same path with rshared propagation (the kubelet's pods dir inside it,
 * so a tmpfs the driver mounts in its container appears on the host, as Bidirectional
 * propagation makes it appear to the kubelet), SYS_ADMIN with unconfined seccomp and
 * AppArmor rather than --privileged (these machines lack CAP_SYS_RESOURCE, which
 * --privileged asks for). The containers use the host's network namespace: the driver
 * reaches the simulated API server, and the harness the metrics and control APIs, on
 * 127.0.0.1 — no bridge, no other address.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createWriteStream } from 'node:fs';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { rssBytes } from '../../harness/managed-process.js';
import type { ComponentControl } from '../cluster.js';

/**
 * Nothing can be pulled here: no reaper image (Ryuk), and the engine is the local socket.
 * Set (unless the user set them) when a container is first started, not on import:
 * testcontainers reads both then.
 */
function useLocalEngine(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
}

export interface ContainerSpec {
  image: string;
  /** Paths bind-mounted at the same path inside, with rshared propagation (each must be a shared mount on the host). */
  sharedDirs: string[];
  /** Paths bind-mounted read-only at the same path inside (files the process reads). */
  readOnlyDirs?: string[];
  /** Root with SYS_ADMIN (mounts) or the image's own user. */
  mounts: boolean;
  /** Also append everything the container writes to this file (as the process runtime does). */
  logFile?: string;
  /** Labels on the container (the sim marks its containers with its root directory). */
  labels?: Record<string, string>;
}

/** The label every container of a simulated cluster carries: the cluster's root directory. */
export const simRootLabel = 'secrets-store-csi-ts.sim-root';

/** Whether `image` is present on the local engine (nothing can be pulled). */
export function imagePresent(image: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const execFileAsync = promisify(execFile);

export class ContainerComponent implements ComponentControl {
  private container: StartedTestContainer | undefined;
  /** The container's main process as the host sees it, looked up once per start. */
  private hostPid: number | undefined;
  private output = '';

  constructor(
    readonly name: string,
    private readonly spec: ContainerSpec,
    private readonly args: () => string[],
    private readonly ready: RegExp,
  ) {}

  running(): boolean {
    return this.container !== undefined;
  }

  async start(): Promise<void> {
    if (this.container) return;
    useLocalEngine();
    this.output = '';
    let c = new GenericContainer(this.spec.image)
      .withCommand(this.args())
      .withNetworkMode('host')
      .withLabels(this.spec.labels ?? {})
      .withBindMounts([
        ...this.spec.sharedDirs.map((d) => ({ source: d, target: d, mode: 'rw,rshared' as 'rw' })),
        ...(this.spec.readOnlyDirs ?? []).map((d) => ({ source: d, target: d, mode: 'ro' as const })),
      ])
      .withLogConsumer((stream) => {
        const file = this.spec.logFile ? createWriteStream(this.spec.logFile, { flags: 'a' }) : undefined;
        stream.on('data', (d: Buffer | string) => {
          this.output = (this.output + d.toString()).slice(-256 * 1024);
          file?.write(d);
        });
        stream.on('end', () => file?.end());
      })
      .withWaitStrategy(Wait.forLogMessage(this.ready).withStartupTimeout(60_000));
    if (this.spec.mounts) c = c.withUser('0:0').withAddedCapabilities('SYS_ADMIN').withSecurityOpt('seccomp=unconfined', 'apparmor=unconfined');
    const started = await c.start();
    this.container = started;
    // Asked once, without blocking: the harness's event loop also serves the API server and
    // the kubelets, and RSS is sampled every 100 ms during a storm (a synchronous `docker
    // inspect` there, 30-90 ms each, kept that loop blocked most of the time).
    const { stdout } = await execFileAsync('docker', ['inspect', '-f', '{{.State.Pid}}', started.getId()], { encoding: 'utf8' });
    const pid = Number(stdout.trim());
    this.hostPid = pid > 0 ? pid : undefined;
  }

  /** SIGTERM, then SIGKILL after 10 s, as the kubelet stops a pod; the container is removed. */
  async stop(): Promise<void> {
    const c = this.container;
    this.container = undefined;
    this.hostPid = undefined;
    await c?.stop({ timeout: 10_000, remove: true });
  }

  /** SIGKILL at once (kill -9). */
  async kill(): Promise<void> {
    const c = this.container;
    this.container = undefined;
    this.hostPid = undefined;
    await c?.stop({ timeout: 0, remove: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  logs(): string {
    return this.output.slice(-20_000);
  }

  /** The container's main process as the host sees it (its pid does not change while it runs). */
  pid(): number | undefined {
    return this.container ? this.hostPid : undefined;
  }

  async rssBytes(): Promise<number | undefined> {
    const pid = this.pid();
    return pid === undefined ? undefined : rssBytes(pid);
  }
}
