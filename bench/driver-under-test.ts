/**
 * The driver a benchmark publishes against, as a process: ours (`secrets-store-csi-driver`
 * from dist/, with our flags) or upstream's v1.6.0 Go build from `.peers/bin` (`npm run
 * peers`), started with upstream's own flags only. Both are placed in the benchmark's world
 * the same way (harness/driver-flags.ts) and are handed back once they serve.
 */
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { driverFlags, type DriverPlacement } from '../harness/driver-flags.js';
import { binNodeOptions, root, startBin, startCommand, type ManagedProcess } from '../harness/managed-process.js';

/** `ref`: our driver as built from another git ref (`npm run bench:check -- --against REF`). */
export type DriverName = 'ours' | 'upstream' | 'ref';

interface DriverStartOptions {
  /**
   * Rotation on with a zero interval, so every republish (NodePublishVolume again on a
   * mounted target) refetches: upstream skips a republish while the target's mtime is
   * younger than --rotation-poll-interval.
   */
  rotation?: boolean;
  /** Node options (ours only), e.g. ['--inspect=127.0.0.1:0']. */
  nodeArgs?: string[];
}

export interface StartedDriver {
  proc: ManagedProcess;
  /** How the driver mounts a volume: ours says so when it serves; upstream always mounts tmpfs. */
  mountMode: string;
}

export interface DriverUnderTest {
  name: DriverName;
  /** Whether the process is Node (its heap can be read through the inspector); else only RSS. */
  node: boolean;
  start(placement: DriverPlacement, options?: DriverStartOptions): Promise<StartedDriver>;
}

const rotationFlags = (on: boolean | undefined) => (on ? ['--enable-secret-rotation', '--rotation-poll-interval=0s'] : []);

/** Resolves with the line saying `proc` serves; kills it if it never does. */
async function started(proc: ManagedProcess, ready: RegExp): Promise<string> {
  try {
    return await proc.waitForLine(ready, 30_000);
  } catch (err) {
    await proc.kill('SIGKILL');
    throw err;
  }
}

export const oursDriver: DriverUnderTest = {
  name: 'ours',
  node: true,
  async start(placement, options = {}) {
    const proc = startBin('driver/main.js', [...driverFlags(placement), '--log-format-json', ...rotationFlags(options.rotation)], { nodeArgs: options.nodeArgs ?? [], keepChars: 64 * 1024 });
    const line = await started(proc, /CSI driver serving/);
    return { proc, mountMode: (JSON.parse(line) as { mountMode: string }).mountMode };
  },
};

/**
 * Upstream's driver at `binary`. It takes the same placement flags (`--kubeconfig` is
 * controller-runtime's), does not create its socket's directory (the DaemonSet's hostPath
 * does; here the caller's world does) and logs klog text on stderr.
 */
export function upstreamDriver(binary: string): DriverUnderTest {
  return {
    name: 'upstream',
    node: false,
    async start(placement, options = {}) {
      await mkdir(dirname(placement.socket), { recursive: true });
      const proc = startCommand(binary, [...driverFlags(placement), ...rotationFlags(options.rotation)], { keepChars: 64 * 1024 });
      await started(proc, /Listening for connections/);
      return { proc, mountMode: 'tmpfs' };
    },
  };
}

/**
 * Our driver as built at another git ref, from that build's own `dist/` (bench/ref-build.ts),
 * started exactly as ours is: the same Node, the same Node options and flags.
 */
export function refDriver(buildRoot: string): DriverUnderTest {
  return {
    name: 'ref',
    node: true,
    async start(placement, options = {}) {
      const args = [...binNodeOptions['driver/main.js'], ...(options.nodeArgs ?? []), join(buildRoot, 'dist', 'driver', 'main.js'), ...driverFlags(placement), '--log-format-json', ...rotationFlags(options.rotation)];
      const proc = startCommand(process.execPath, args, { keepChars: 64 * 1024 });
      const line = await started(proc, /CSI driver serving/);
      return { proc, mountMode: (JSON.parse(line) as { mountMode: string }).mountMode };
    },
  };
}

/** Where `npm run peers` puts upstream's driver. */
export const upstreamBinary = join(root, '.peers', 'bin', 'secrets-store-csi-driver');

/**
 * Upstream's driver if `npm run peers` built it, else why not (from `.peers/status.json`),
 * in words a user can act on.
 */
export async function findUpstreamDriver(): Promise<{ driver: DriverUnderTest } | { missing: string }> {
  let status: { peers: Array<{ name: string; built: boolean; reason?: string }> };
  try {
    status = JSON.parse(await readFile(join(root, '.peers', 'status.json'), 'utf8')) as typeof status;
  } catch {
    return { missing: 'peer secrets-store-csi-driver not built: no .peers/status.json (run `npm run peers`)' };
  }
  const peer = status.peers.find((p) => p.name === 'secrets-store-csi-driver');
  if (!peer?.built) return { missing: `peer secrets-store-csi-driver not built: ${peer?.reason ?? 'not listed in .peers/status.json (run `npm run peers`)'}` };
  return { driver: upstreamDriver(upstreamBinary) };
}
