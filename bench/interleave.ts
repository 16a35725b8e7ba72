/**
 * Interleaved rounds: a tinybench Bench run several times, briefly each time, with every
 * task's samples pooled across the rounds. A floor and the suite measured against it then
 * sample the same stretches of machine noise (a shared host speeds up and slows down over
 * seconds), so their ratio holds still where one long run per task would let a quiet or a
 * busy stretch fall on one side only. Given several Benches with the same tasks in different
 * orders, the rounds take them in turn, so no task always runs right after the same one
 * (what an A/B comparison of two builds needs: neither always runs first).
 */
import type { Bench } from 'tinybench';
import { fromSamples, type SuiteResult } from './report.js';

interface RoundsOptions {
  rounds: number;
  /** Called before each round (e.g. to run a floor measured outside tinybench). */
  beforeRound?: () => Promise<void> | void;
}

/** Runs `bench` (or each of `benches` in turn) `rounds` times and returns one row per task from all its samples. */
export async function runInterleaved(benches: Bench | Bench[], options: RoundsOptions): Promise<Map<string, Omit<SuiteResult, 'rssMb' | 'floorRatio'>>> {
  const list = Array.isArray(benches) ? benches : [benches];
  const pooled = new Map<string, number[]>(list[0]!.tasks.map((t) => [t.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    await options.beforeRound?.();
    const bench = list[round % list.length]!;
    // tinybench runs a Bench once: a second run() returns the first run's results unless the
    // Bench is reset (without this, every "round" pooled copies of the first one's samples).
    bench.reset();
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state === 'errored') throw new Error(`benchmark ${task.name} failed: ${r.error.message}`, { cause: r.error });
      if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') throw new Error(`benchmark ${task.name} did not complete (${r.state})`);
      const samples = r.latency.samples;
      if (!samples) throw new Error(`benchmark ${task.name} kept no samples: create the Bench with retainSamples: true`);
      const into = pooled.get(task.name);
      if (!into) throw new Error(`benchmark ${task.name} is not a task of the first bench: interleaved benches must have the same tasks`);
      into.push(...samples);
    }
  }
  return new Map([...pooled].map(([name, samples]) => [name, fromSamples(name, samples)]));
}
