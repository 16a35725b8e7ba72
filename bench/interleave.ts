/**
 * Interleaved rounds: a tinybench Bench run several times, briefly each time, with every
 * task's samples pooled across the rounds. A floor and the suite measured against it then
 * sample the same stretches of machine noise (a shared host speeds up and slows down over
 * seconds), so their ratio holds still where one long run per task would let a quiet or a
 * busy stretch fall on one side only.
 */
import type { Bench } from 'tinybench';
import { fromSamples, type SuiteResult } from './report.js';

interface RoundsOptions {
  rounds: number;
  /** Called before each round (e.g. to run a floor measured outside tinybench). */
  beforeRound?: () => Promise<void> | void;
}

/** Runs `bench` `rounds` times and returns one row per task from all its samples. */
export async function runInterleaved(bench: Bench, options: RoundsOptions): Promise<Map<string, Omit<SuiteResult, 'rssMb' | 'floorRatio'>>> {
  const pooled = new Map<string, number[]>(bench.tasks.map((t) => [t.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    await options.beforeRound?.();
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state === 'errored') throw new Error(`benchmark ${task.name} failed: ${r.error.message}`, { cause: r.error });
      if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') throw new Error(`benchmark ${task.name} did not complete (${r.state})`);
      const samples = r.latency.samples;
      if (!samples) throw new Error(`benchmark ${task.name} kept no samples: create the Bench with retainSamples: true`);
      pooled.get(task.name)!.push(...samples);
    }
  }
  return new Map([...pooled].map(([name, samples]) => [name, fromSamples(name, samples)]));
}
