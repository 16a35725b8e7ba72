/**
 * `npm run fuzz -- [--runs N] [--seed S]`: runs the property-based tests of test/fuzz
 * (vitest) and prints, per property, the cases it ran and the time it took, then the total.
 * Without --runs each property runs its `npm test` default; with --runs N every property
 * runs N cases (long runs; the timeouts grow with N). --seed replays a failure that
 * fast-check reported. Exit code: vitest's (0 when every property held), 2 for bad usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const usage = `Usage: npm run fuzz -- [--runs N] [--seed S]

  --runs N   cases per property (default: each property's npm test default)
  --seed S   fast-check seed to replay (printed with a failure)
`;

function main(): number {
  let values: { runs?: string | undefined; seed?: string | undefined; help?: boolean | undefined };
  try {
    values = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`fuzz: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.runs !== undefined && !/^[1-9]\d{0,8}$/.test(values.runs)) {
    process.stderr.write(`fuzz: --runs must be a whole number from 1 to 999999999, got ${JSON.stringify(values.runs)}\n`);
    return 2;
  }
  if (values.seed !== undefined && !/^-?\d{1,10}$/.test(values.seed)) {
    process.stderr.write(`fuzz: --seed must be a whole number (as fast-check prints it), got ${JSON.stringify(values.seed)}\n`);
    return 2;
  }
  const root = join(import.meta.dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'sscsi-fuzz-'));
  const report = join(dir, 'report.jsonl');
  try {
    const started = performance.now();
    const run = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/fuzz'], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        SSCSI_FUZZ_REPORT: report,
        ...(values.runs ? { SSCSI_FUZZ_RUNS: values.runs } : {}),
        ...(values.seed ? { SSCSI_FUZZ_SEED: values.seed } : {}),
      },
    });
    let lines: Array<{ property: string; runs: number; ms: number }> = [];
    try {
      lines = readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { property: string; runs: number; ms: number });
    } catch {
      // no property finished
    }
    const width = Math.max(8, ...lines.map((l) => l.property.length));
    process.stdout.write(`\n${'property'.padEnd(width)}  ${'cases'.padStart(9)}  ${'seconds'.padStart(8)}\n`);
    for (const l of lines) process.stdout.write(`${l.property.padEnd(width)}  ${String(l.runs).padStart(9)}  ${(l.ms / 1000).toFixed(1).padStart(8)}\n`);
    const total = lines.reduce((a, l) => a + l.runs, 0);
    process.stdout.write(`\n${total} cases in ${lines.length} properties that held, ${((performance.now() - started) / 1000).toFixed(0)} s in all${run.status === 0 ? '' : ' — a property FAILED (see above)'}\n`);
    return run.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exit(main());
