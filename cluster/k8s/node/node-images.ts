/**
 * The images a node needs that nothing can pull here, made from this machine's files:
 * - the pause image: our own static program (./pause, Go, no dependencies) as `/pause`;
 * - the test image pods name (`busybox`): Debian's static /bin/busybox with one symlink per
 *   applet, /etc/passwd and /etc/group, under every name pods and examples use.
 * Both are written as OCI layout tars (oci-image.ts) for `ctr images import`.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../../driver/version.js';
import { run } from './command.js';
import { writeOciImageTar, type ImageEntry } from './oci-image.js';

/** The sandbox image containerd starts every pod with (its CRI `sandbox_image`). */
export const pauseImage = 'docker.io/secrets-store-csi-ts/pause:dev';

/**
 * Names the busybox image is imported under: what `image: busybox` and `busybox:<tag>`
 * resolve to, and the app image of the scenarios' pods (scenarios/fixtures.ts), which only
 * needs a process that keeps running.
 */
export function busyboxNames(version: string): string[] {
  return ['docker.io/library/busybox:latest', `docker.io/library/busybox:${version}`, 'docker.io/library/busybox:stable', 'registry.example/app:1'];
}

export const busyboxBinary = '/bin/busybox';

const pauseSource = join(packageRoot(), 'cluster', 'k8s', 'node', 'pause');

/** Where the Go toolchain is, or undefined (the node then cannot make its pause image). */
export async function findGo(): Promise<string | undefined> {
  for (const candidate of ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go']) {
    try {
      await run(candidate, ['version']);
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The pause program built static into `outDir` (kept there, rebuilt when its source changes). */
export async function buildPause(outDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'main.go']) hash.update(await readFile(join(pauseSource, f)));
  const out = join(outDir, `pause-${hash.digest('hex').slice(0, 12)}`);
  if (await exists(out)) return out;
  const go = await findGo();
  if (!go) throw new Error('the pause image needs Go to build cluster/k8s/node/pause: install Go (e.g. /usr/local/go/bin/go)');
  await mkdir(outDir, { recursive: true });
  await run('nice', ['-n', '10', go, 'build', '-trimpath', '-ldflags=-s -w', '-o', out, '.'], { cwd: pauseSource, env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod' } });
  return out;
}

/** Debian's busybox version (`1.35.0`), from its banner. */
export async function busyboxVersion(binary = busyboxBinary): Promise<string> {
  const { stdout, stderr } = await run(binary, ['--help']).catch((e: Error) => {
    throw new Error(`the busybox image needs a static busybox at ${binary} (Debian: apt-get install busybox-static): ${e.message}`);
  });
  const m = /BusyBox v(\d+\.\d+\.\d+)/.exec(`${stdout}${stderr}`);
  if (!m) throw new Error(`${binary} --help does not print a BusyBox version`);
  return m[1]!;
}

/** Writes the pause image tar; returns its path. */
export async function makePauseImage(dir: string): Promise<string> {
  const binary = await buildPause(join(dir, 'build'));
  const tar = join(dir, 'pause.tar');
  await writeOciImageTar({ names: [pauseImage], entries: [{ kind: 'file', path: '/pause', from: binary, mode: 0o755 }], config: { Entrypoint: ['/pause'] } }, tar);
  return tar;
}

/** Busybox as an image's userland: the binary, a link per applet, passwd/group and the usual dirs. */
async function busyboxEntries(binary: string): Promise<ImageEntry[]> {
  const { stdout } = await run(binary, ['--list-full']);
  const applets = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'bin/busybox');
  return [
    { kind: 'file', path: '/bin/busybox', from: binary, mode: 0o755 },
    ...applets.map((a): ImageEntry => ({ kind: 'symlink', path: `/${a}`, target: '/bin/busybox' })),
    { kind: 'content', path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n', mode: 0o644 },
    { kind: 'content', path: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n', mode: 0o644 },
    { kind: 'dir', path: '/tmp', mode: 0o1777 },
    ...['/root', '/proc', '/sys', '/dev', '/etc', '/var', '/home'].map((path): ImageEntry => ({ kind: 'dir', path, mode: 0o755 })),
  ];
}

const imagePath = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** Writes the busybox image tar; returns its path and the names it carries. */
export async function makeBusyboxImage(dir: string, binary = busyboxBinary): Promise<{ tar: string; names: string[] }> {
  const version = await busyboxVersion(binary);
  const names = busyboxNames(version);
  const tar = join(dir, 'busybox.tar');
  await writeOciImageTar({ names, entries: await busyboxEntries(binary), config: { Cmd: ['sh'], Env: imagePath } }, tar);
  return { tar, names };
}

/** The shared libraries `ldd` says a binary loads (the dynamic loader included); none for a static one. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]).catch((e: Error) => {
    if (/not a dynamic executable/.test(e.message)) return { stdout: '' };
    throw new Error(`ldd ${binary} failed: ${e.message}`);
  });
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Where a driver binary sits in the image made from it, and the image's entry point. */
export const driverBinaryPath = '/secrets-store-csi-driver';

/**
 * An image of a driver binary (e.g. upstream's Go driver from .peers/bin) to run as the driver
 * DaemonSet's container: the binary as its entry point, the libraries it loads, and busybox's
 * `mount` and `umount` (upstream's mount-utils runs them). Named by the binary's digest, so a
 * changed binary is a new image. Returns the tar and the image name.
 */
export async function makeDriverBinaryImage(dir: string, binary: string, busybox = busyboxBinary): Promise<{ tar: string; name: string }> {
  const digest = createHash('sha256').update(await readFile(binary)).digest('hex').slice(0, 12);
  const name = `docker.io/secrets-store-csi-ts/driver-bin:${digest}`;
  const libs = await sharedLibraries(binary);
  const entries: ImageEntry[] = [
    ...(await busyboxEntries(busybox)),
    ...libs.map((l): ImageEntry => ({ kind: 'file', path: l, from: l, mode: 0o755 })),
    { kind: 'file', path: driverBinaryPath, from: binary, mode: 0o755 },
  ];
  const tar = join(dir, `driver-bin-${digest}.tar`);
  await writeOciImageTar({ names: [name], entries, config: { Entrypoint: [driverBinaryPath], Env: imagePath } }, tar);
  return { tar, name };
}
