/**
 * How the property-based tests (fast-check) run. In `npm test` each property runs its own
 * default number of cases — many for cheap pure properties, few for those doing I/O — so
 * the whole fuzz suite stays well under a minute. `npm run fuzz -- --runs N` (fuzz.ts) sets
 * SSCSI_FUZZ_RUNS=N: every property then runs N cases, with a timeout that grows with N.
 * SSCSI_FUZZ_SEED replays a failure (fast-check prints the seed and the shrunk case), and
 * with SSCSI_FUZZ_REPORT set each property appends `{property, runs, ms}` to that file.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

const envRuns = process.env.SSCSI_FUZZ_RUNS ? Number(process.env.SSCSI_FUZZ_RUNS) : undefined;
const envSeed = process.env.SSCSI_FUZZ_SEED ? Number(process.env.SSCSI_FUZZ_SEED) : undefined;

/** The cases a property runs: SSCSI_FUZZ_RUNS when set, else its default. */
export const fuzzRuns = (defaultRuns: number): number => envRuns ?? defaultRuns;

/** A vitest timeout for a property whose cases take up to `msPerCase` each on a loaded machine. */
export const fuzzTimeout = (defaultRuns: number, msPerCase: number): number => Math.max(60_000, fuzzRuns(defaultRuns) * msPerCase * 3);

function record(property: string, runs: number, ms: number): void {
  const file = process.env.SSCSI_FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ property, runs, ms: Math.round(ms) })}\n`);
}

/** Runs `property` for its number of cases (fc.assert: a failure throws with the seed and the shrunk counterexample). */
export function checkProperty<Ts extends [unknown, ...unknown[]]>(name: string, defaultRuns: number, property: fc.IProperty<Ts>): void {
  const runs = fuzzRuns(defaultRuns);
  const started = performance.now();
  fc.assert(property, { numRuns: runs, ...(envSeed !== undefined ? { seed: envSeed } : {}) });
  record(name, runs, performance.now() - started);
}

/** The same for an asynchronous property. */
export async function checkAsyncProperty<Ts extends [unknown, ...unknown[]]>(name: string, defaultRuns: number, property: fc.IAsyncProperty<Ts>): Promise<void> {
  const runs = fuzzRuns(defaultRuns);
  const started = performance.now();
  await fc.assert(property, { numRuns: runs, ...(envSeed !== undefined ? { seed: envSeed } : {}) });
  record(name, runs, performance.now() - started);
}
