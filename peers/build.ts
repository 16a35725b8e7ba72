/**
 * `npm run peers`: builds the outside programs we measure ourselves against, and the
 * Kubernetes components the k8s target runs, from the Go module registry into
 * `.peers/bin/<name>` (git-ignored). One Go module per program (or per release whose
 * programs share one dependency graph: Kubernetes, etcd) under `peers/<dir>/` (go.mod +
 * go.sum pin it, a `tool` line per program); this file only knows the list below.
 *
 * Idempotent and cheap when warm: a program is rebuilt only when its go.mod, go.sum, build
 * flags or the Go toolchain changed, or the binary is not the one built (a stamp beside it), and Go's build cache makes
 * a rebuild after such a change fast. Every run writes `.peers/status.json` (built / failed,
 * with the reason) so tests that need a peer skip naming what is missing.
 *
 * Exit 0 when every peer is there, 1 when one could not be built (one line per module and
 * reason, naming the module the registry refused, or the missing Go toolchain); `--allow-missing`
 * reports the same lines and exits 0 (npm test and CI, whose peer-needing tests then skip).
 *
 * Runs straight from source on Node 24 (type stripping): no project build needed first.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One Go module under `peers/<dir>/` and the programs built from it. */
interface PeerModule {
  /** The module's folder under `peers/`. */
  dir: string;
  /** Each program: its name in `.peers/bin` and the main package, required as a `tool`. */
  binaries: { name: string; pkg: string }[];
  ldflags?: string;
  /**
   * `-trimpath` (no machine paths in the binary), the default. Off for Kubernetes: its
   * compile actions are then those of a plain `go build` of the same packages, so a build
   * cache warmed by any other Kubernetes build on the machine serves them (≈ 1,900 packages).
   */
  trimpath?: boolean;
}

/** `-X` flags setting a Go package's version variables, the way Kubernetes' hack/lib/version.sh does. */
function kubernetesVersionFlags(version: string): string {
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version) ?? [];
  // component-base is what the servers and kubelet print; client-go's copy is kubectl's `Client Version`.
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`])
    .join(' ');
}

/**
 * The programs. Asked of the registry and refused outright (403 "This module version is not
 * available", every version): github.com/kubernetes-csi/node-driver-registrar and
 * github.com/kubernetes-csi/livenessprobe — see the README, "Peers" (ours are in sidecars/).
 */
const modules: PeerModule[] = [
  {
    dir: 'secrets-store-csi-driver',
    binaries: [{ name: 'secrets-store-csi-driver', pkg: 'sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver' }],
    // What upstream's Makefile stamps, so `--version` says the release.
    ldflags: '-X sigs.k8s.io/secrets-store-csi-driver/pkg/version.BuildVersion=v1.6.0',
  },
  {
    dir: 'csi-sanity',
    binaries: [{ name: 'csi-sanity', pkg: 'github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity' }],
  },
  {
    dir: 'etcd',
    binaries: [
      { name: 'etcd', pkg: 'go.etcd.io/etcd/server/v3' },
      { name: 'etcdctl', pkg: 'go.etcd.io/etcd/etcdctl/v3' },
    ],
  },
  {
    dir: 'kubernetes',
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kubectl'].map((name) => ({
      name,
      pkg: `k8s.io/kubernetes/cmd/${name}`,
    })),
    ldflags: kubernetesVersionFlags('v1.34.4'),
    trimpath: false,
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

/** Size and modification time of a built binary, or undefined when there is none. */
async function binaryId(path: string): Promise<string | undefined> {
  return stat(path).then(
    (st) => `${st.size}:${st.mtimeMs}`,
    () => undefined,
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

/** The version of the module holding `pkg`, from the binary's build info (`go version -m`: the `mod` line of the main package's module, or a `dep`). */
function moduleVersion(buildInfo: string, pkg: string): string {
  const deps = buildInfo
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => (f[0] === 'mod' || f[0] === 'dep') && f[1] !== undefined && (pkg === f[1] || pkg.startsWith(`${f[1]}/`)));
  // The longest module path holding the package is its module (go.etcd.io/etcd/server/v3, not go.etcd.io/etcd).
  deps.sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0));
  return deps[0]?.[2] ?? 'unknown';
}

async function buildOne(go: string, goVersion: string, mod: PeerModule, bin: PeerModule['binaries'][number]): Promise<Outcome> {
  const moduleDir = join(root, 'peers', mod.dir);
  const out = join(binDir, bin.name);
  const stampFile = `${out}.stamp`;
  const trimpath = mod.trimpath ?? true;
  const stamp = createHash('sha256')
    .update(goVersion)
    .update(bin.pkg)
    .update(mod.ldflags ?? '')
    .update(trimpath ? '' : 'no-trimpath')
    .update(await readFile(join(moduleDir, 'go.mod')))
    .update(await readFile(join(moduleDir, 'go.sum')))
    .digest('hex');
  // The stamp also names the binary it was written for (size, mtime): a binary copied over
  // ours (e.g. from another build of the same release, without our flags) is not fresh.
  const fresh = (await binaryId(out)) !== undefined && (await readFile(stampFile, 'utf8').catch(() => '')) === `${stamp} ${await binaryId(out)}`;
  if (!fresh) {
    const args = ['build', ...(trimpath ? ['-trimpath'] : []), '-o', `${out}.tmp`];
    if (mod.ldflags) args.push('-ldflags', mod.ldflags);
    args.push(bin.pkg);
    try {
      await run(go, args, { cwd: moduleDir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GOFLAGS: `${process.env['GOFLAGS'] ?? ''} -mod=readonly`.trim() } });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      return { name: bin.name, built: false, reason: buildFailureReason(`${e.stdout ?? ''}\n${e.stderr ?? e.message}`) };
    }
    await rename(`${out}.tmp`, out);
    await writeFile(stampFile, `${stamp} ${await binaryId(out)}`);
  }
  const { stdout } = await run(go, ['version', '-m', out]);
  return { name: bin.name, built: true, version: moduleVersion(stdout, bin.pkg), path: out };
}

/**
 * The failures, one line per module and reason: a module the registry refused fails every
 * binary built from it for the same reason, and that is one fact to report.
 */
export function failureLines(failed: { name: string; reason: string }[], moduleOf: (name: string) => string): string[] {
  const groups = new Map<string, { dir: string; names: string[]; reason: string }>();
  for (const f of failed) {
    const dir = moduleOf(f.name);
    const key = `${dir}\0${f.reason}`;
    const g = groups.get(key) ?? { dir, names: [], reason: f.reason };
    g.names.push(f.name);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) =>
    g.names.length === 1 && g.names[0] === g.dir
      ? `peers: ${g.dir} not built: ${g.reason}`
      : `peers: ${g.dir} (${g.names.join(', ')}) not built: ${g.reason}`,
  );
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
    for (const m of modules) for (const b of m.binaries) outcomes.push({ name: b.name, built: false, reason: 'no Go toolchain (go) on this machine' });
  } else {
    const goVersion = (await run(go, ['version'])).stdout.trim();
    // One at a time: each build already uses every core.
    for (const m of modules) {
      for (const b of m.binaries) {
        const started = Date.now();
        const o = await buildOne(go, goVersion, m, b);
        outcomes.push(o);
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        if (o.built) process.stdout.write(`peers: ${o.name} ${o.version} (${secs} s) -> .peers/bin/${o.name}\n`);
        // The registry refusing the module (or being unreachable) fails its other binaries the same way: don't ask again.
        else if (/^the Go module registry/.test(o.reason)) {
          for (const rest of m.binaries.slice(m.binaries.indexOf(b) + 1)) outcomes.push({ name: rest.name, built: false, reason: o.reason });
          break;
        }
      }
    }
  }
  await writeFile(statusFile, `${JSON.stringify({ peers: outcomes }, null, 2)}\n`);
  const failed = outcomes.filter((o): o is Extract<Outcome, { built: false }> => !o.built);
  const moduleOf = (name: string): string => modules.find((m) => m.binaries.some((b) => b.name === name))?.dir ?? name;
  for (const line of failureLines(failed, moduleOf)) process.stderr.write(`${line}\n`);
  return failed.length > 0 && !allowMissing ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
