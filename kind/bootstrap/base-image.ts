/**
 * A Node 24 base image made on this machine, for engines that cannot pull node:24-slim: a
 * root filesystem holding the Node binary that runs this process (the npm `node` package's,
 * under npm scripts), the shared libraries `ldd` says it needs, /tmp and a passwd/group with
 * root and node (1000) — imported with `docker import`. The images' Dockerfiles build FROM
 * it unchanged (BASE_IMAGE).
 */
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runOk, type CommandRunner } from './command-runner.js';

export const localBaseImage = 'sscsi-node-base:24';

/** The absolute paths in `ldd` output: each library and the dynamic loader. */
function lddPaths(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m) paths.add(m[1]!);
  }
  return [...paths];
}

export async function buildLocalBaseImage(runner: CommandRunner, log: (line: string) => void, tag = localBaseImage, nodeBinary = process.execPath): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'sscsi-base-'));
  try {
    const rootfs = join(work, 'rootfs');
    log(`• base image ${tag} from ${nodeBinary}`);
    const ldd = await runOk(runner, 'ldd', [nodeBinary], undefined, (r) => new Error(`ldd ${nodeBinary} failed: ${r.stderr.trim()}`));
    const libs = lddPaths(ldd.stdout);
    if (!libs.some((l) => l.includes('libc.so'))) throw new Error(`ldd ${nodeBinary} named no libc: ${ldd.stdout.trim()}`);
    for (const file of [...libs, '/usr/local/bin/node']) await mkdir(join(rootfs, dirname(file)), { recursive: true });
    await copyFile(nodeBinary, join(rootfs, 'usr/local/bin/node'));
    for (const lib of libs) await copyFile(lib, join(rootfs, lib)); // copyFile follows links: the real bytes land at the linked name
    await mkdir(join(rootfs, 'tmp'));
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await mkdir(join(rootfs, 'etc'));
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/false\nnode:x:1000:1000:node:/home/node:/bin/false\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
    const tar = join(work, 'rootfs.tar');
    await runOk(runner, 'tar', ['-C', rootfs, '-cf', tar, '.'], undefined, (r) => new Error(`tar failed: ${r.stderr.trim()}`));
    await runOk(runner, 'docker', ['import', '-c', 'ENV PATH=/usr/local/bin:/usr/bin:/bin', tar, tag], undefined, (r) => new Error(`docker import failed: ${r.stderr.trim()}`));
    return tag;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
