/**
 * `npm run peers`: builds the outside programs we measure ourselves against from the Go
 * module registry into `.peers/bin/<name>` (git-ignored). One Go module per program under
 * `peers/<name>/` (go.mod + go.sum pin it); this file only knows the list below.
 *
 * Idempotent and cheap when warm: a program is rebuilt only when its go.mod, go.sum, build
 * flags or the Go toolchain changed (a stamp beside the binary), and Go's build cache makes
 * a rebuild after such a change fast. Every run writes `.peers/status.json` (built / failed,
 * with the reason) so tests that need a peer skip naming what is missing.
 *
 * Exit 0 when every peer is there, 1 when one could not be built (one line per failure
 * naming the module the registry refused, or the missing Go toolchain); `--allow-missing`
 * reports the same lines and exits 0 (npm test and CI, whose peer-needing tests then skip).
 *
 * Runs straight from source on Node 24 (type stripping): no project build needed first.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Peer {
  /** The binary's name in `.peers/bin` and the folder of its Go module under `peers/`. */
  name: string;
  /** The package to build, required (as a `tool`) by the module in `peers/<name>/`. */
  pkg: string;
  /** The module whose version the binary carries (read back from its build info). */
  module: string;
  ldflags?: string;
}

/**
 * The programs. Asked of the registry and refused outright (403 "This module version is not
 * available", every version): github.com/kubernetes-csi/node-driver-registrar and
 * github.com/kubernetes-csi/livenessprobe — see the README, "Peers".
 */
const peers: Peer[] = [
  {
    name: 'secrets-store-csi-driver',
    pkg: 'sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver',
    module: 'sigs.k8s.io/secrets-store-csi-driver',
    // What upstream's Makefile stamps, so `--version` says the release.
    ldflags: '-X sigs.k8s.io/secrets-store-csi-driver/pkg/version.BuildVersion=v1.6.0',
  },
  {
    name: 'csi-sanity',
    pkg: 'github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity',
    module: 'github.com/kubernetes-csi/csi-test/v5',
  },
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, '.peers', 'bin');
const statusFile = join(root, '.peers', 'status.json');

type Outcome = { name: string; built: true; version: string; path: string } | { name: string; built: false; reason: string };

async function findGo(): Promise<string | undefined> {
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

/** Why a `go build` failed, in one line: the module the registry refused, else the last error line. */
export function buildFailureReason(output: string): string {
  const refused = /([\w.-]+\.[\w./-]+)@(v[\w.+-]+): .*?(403 Forbidden|404 Not Found|410 Gone)/.exec(output);
  if (refused) {
    const why = /server response: (.+)/.exec(output)?.[1]?.trim() ?? refused[3];
    return `the Go module registry refused ${refused[1]}@${refused[2]} (${why})`;
  }
  if (/dial tcp|no such host|i\/o timeout|connection refused/.test(output)) return 'the Go module registry could not be reached';
  const lines = output.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-1)[0] ?? 'go build failed';
}

async function buildOne(go: string, goVersion: string, peer: Peer): Promise<Outcome> {
  const moduleDir = join(root, 'peers', peer.name);
  const out = join(binDir, peer.name);
  const stampFile = `${out}.stamp`;
  const stamp = createHash('sha256')
    .update(goVersion)
    .update(peer.pkg)
    .update(peer.ldflags ?? '')
    .update(await readFile(join(moduleDir, 'go.mod')))
    .update(await readFile(join(moduleDir, 'go.sum')))
    .digest('hex');
  const fresh = (await exists(out)) && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp;
  if (!fresh) {
    const args = ['build', '-trimpath', '-o', `${out}.tmp`];
    if (peer.ldflags) args.push('-ldflags', peer.ldflags);
    args.push(peer.pkg);
    try {
      await run(go, args, { cwd: moduleDir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GOFLAGS: `${process.env['GOFLAGS'] ?? ''} -mod=readonly`.trim() } });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      return { name: peer.name, built: false, reason: buildFailureReason(`${e.stdout ?? ''}\n${e.stderr ?? e.message}`) };
    }
    await rename(`${out}.tmp`, out);
    await writeFile(stampFile, stamp);
  }
  const { stdout } = await run(go, ['version', '-m', out]);
  const line = stdout.split('\n').find((l) => l.trim().split(/\s+/)[1] === peer.module);
  const version = line?.trim().split(/\s+/)[2] ?? 'unknown';
  return { name: peer.name, built: true, version, path: out };
}

async function main(argv: string[]): Promise<number> {
  const allowMissing = argv.includes('--allow-missing');
  const unknown = argv.filter((a) => a !== '--allow-missing');
  if (unknown.length > 0) {
    process.stderr.write(`peers: unknown argument ${unknown[0]}\nUsage: npm run peers [-- --allow-missing]\n`);
    return 2;
  }
  await mkdir(binDir, { recursive: true });
  const go = await findGo();
  const outcomes: Outcome[] = [];
  if (!go) {
    for (const p of peers) outcomes.push({ name: p.name, built: false, reason: 'no Go toolchain (go) on this machine' });
  } else {
    const goVersion = (await run(go, ['version'])).stdout.trim();
    // One at a time: each build already uses every core.
    for (const p of peers) {
      const started = Date.now();
      const o = await buildOne(go, goVersion, p);
      outcomes.push(o);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (o.built) process.stdout.write(`peers: ${o.name} ${o.version} (${secs} s) -> .peers/bin/${o.name}\n`);
    }
  }
  await writeFile(statusFile, `${JSON.stringify({ peers: outcomes }, null, 2)}\n`);
  const failed = outcomes.filter((o): o is Extract<Outcome, { built: false }> => !o.built);
  for (const f of failed) process.stderr.write(`peers: ${f.name} not built: ${f.reason}\n`);
  return failed.length > 0 && !allowMissing ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
