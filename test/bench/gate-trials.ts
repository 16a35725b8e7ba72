/**
 * `node test/bench/gate-trials.ts [N]`: how the `--against` gate holds on this machine —
 * N runs of `bench:check --against HEAD` on unchanged code (each must pass) and N with a 30%
 * slowdown in the publish path (each must fail), alternating, each with the machine's load
 * average beside it. The slowdown is a patch applied to a throwaway build of HEAD, never to
 * the project: NodePublishVolume waits before answering for 30% of the publish time the
 * gate measured (its lower quartile, at the client) in the unchanged run just before —
 * the driver's own handler time is only part of what the client measures, the rest being
 * gRPC and, on a loaded machine, waiting for a CPU. That build runs the gate against HEAD,
 * so "ours" is the slowed build and the ref HEAD itself.
 * Expects `npm run build` done; takes a few minutes per pair. Exit 0 when every trial gave
 * its expected verdict.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const trials = Number(process.argv[2] ?? 10);

/**
 * The slowdown: the publish handler waits SSCSI_TRIAL_PUBLISH_DELAY_MS before answering —
 * with Atomics.wait, to the fraction of a millisecond (a timer would round 1.7 ms down to 1).
 */
async function patchSlowPublish(tree: string): Promise<void> {
  const file = join(tree, 'driver', 'node-server.ts');
  const text = await readFile(file, 'utf8');
  const start = 'NodePublishVolume: unary(async (req, call) => {';
  const answer = "else logger.info({ ...fields, ...result, ms }, 'node publish volume succeeded');\n        return {};";
  if (!text.includes(start) || !text.includes(answer)) throw new Error(`${file} changed: update the slowdown patch in test/bench/gate-trials.ts`);
  await writeFile(
    file,
    text
      .replace(answer, answer.replace('return {};', "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.SSCSI_TRIAL_PUBLISH_DELAY_MS ?? 0));\n        return {};")),
  );
}

function gate(tree: string, json: string, delayMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(tree, 'dist', 'bench', 'check.js'), '--against', 'HEAD', '--json', json], {
      cwd: tree,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SSCSI_TRIAL_PUBLISH_DELAY_MS: String(delayMs) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'sscsi-gate-trials-'));
const slow = join(dir, 'slow');
let added = false;
const results: Array<{ kind: 'unchanged' | 'slowed'; code: number; load: string; seconds: number; publish: string }> = [];
/** The publish time (lower quartile, ms) the last unchanged run measured for this build. */
let publishMs = 0;
try {
  await run('git', ['worktree', 'add', '--detach', slow, 'HEAD'], { cwd: root });
  added = true;
  await symlink(join(root, 'node_modules'), join(slow, 'node_modules'), 'dir');
  await patchSlowPublish(slow);
  await run('npm', ['run', 'build'], { cwd: slow, maxBuffer: 64 << 20 });
  for (let i = 0; i < trials; i++) {
    for (const kind of ['unchanged', 'slowed'] as const) {
      const before = loadavg()[0]!;
      const t = Date.now();
      const json = join(dir, `${kind}-${i}.json`);
      const delayMs = kind === 'slowed' ? 0.3 * publishMs : 0;
      const { code, out } = await gate(kind === 'unchanged' ? root : slow, json, delayMs);
      if (kind === 'unchanged') {
        const doc = JSON.parse(await readFile(json, 'utf8').catch(() => '{}')) as { against?: { verdicts: Array<{ name: string; current: number }> } };
        publishMs = doc.against?.verdicts.find((v) => v.name === 'node-publish 10x1KiB')?.current ?? publishMs;
      }
      const publish = /^node-publish 10x1KiB\s+[\d.]+\s+[\d.]+\s+[+-]?\d+%.*$/m.exec(out)?.[0].replace(/\s+/g, ' ') ?? '(no node-publish verdict)';
      results.push({ kind, code, load: `${before.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`, seconds: Math.round((Date.now() - t) / 1000), publish });
      const r = results[results.length - 1]!;
      console.log(`${String(i + 1).padStart(2)} ${kind.padEnd(9)}${kind === 'slowed' ? ` +${delayMs.toFixed(2)} ms` : ''} exit ${r.code} (${r.code === (kind === 'unchanged' ? 0 : 1) ? 'as expected' : 'NOT AS EXPECTED'}) load ${r.load} ${r.seconds}s | ${r.publish}`);
      if (code !== 0 && code !== 1) console.log(out.split('\n').slice(-15).join('\n'));
      else if (code !== (kind === 'unchanged' ? 0 : 1)) console.log(out.split('\n').filter((l) => /REGRESSION|suite\(s\)/.test(l)).join('\n'));
    }
  }
} finally {
  if (added) await run('git', ['worktree', 'remove', '--force', slow], { cwd: root }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await run('git', ['worktree', 'prune'], { cwd: root }).catch(() => undefined);
}
const ok = (k: 'unchanged' | 'slowed') => results.filter((r) => r.kind === k && r.code === (k === 'unchanged' ? 0 : 1)).length;
const n = (k: 'unchanged' | 'slowed') => results.filter((r) => r.kind === k).length;
console.log(`\nunchanged: passed ${ok('unchanged')} of ${n('unchanged')}; slowed 30%: failed ${ok('slowed')} of ${n('slowed')}`);
process.exit(ok('unchanged') === n('unchanged') && ok('slowed') === n('slowed') ? 0 : 1);
