/**
 * How fast this machine is right now, measured once per run so that reports say where
 * their figures come from and waits can stretch on a slower machine instead of failing.
 *
 * The figure: the median (p50) of `calls` empty unary gRPC calls on a unix socket, server
 * and client in this process (harness/grpc-echo.ts, the benchmarks' `floor grpc-empty`),
 * after as many warm-up calls. It moves with what the harness does all day — small RPCs,
 * JSON, the event loop — and with the load other processes put on the machine.
 *
 * The formula (`timeScale`): waits written for the reference machine are multiplied by
 *
 *     scale = clamp(p50 / referenceGrpcEmptyP50Ms, 1, maxTimeScale)
 *
 * never below 1 (a faster machine keeps the written limits) and at most maxTimeScale (a
 * wildly slow reading should not turn a real hang into an hour-long wait).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startEcho } from './grpc-echo.js';
import { makeTempRoot } from './temp-root.js';

/**
 * The empty gRPC call's p50 on the machine where the suite's waits were written and first
 * measured (2 cores, AMD EPYC, unloaded): 0.05 ms.
 */
export const referenceGrpcEmptyP50Ms = 0.05;

/** The most a wait is stretched. */
export const maxTimeScale = 10;

export interface MachineProfile {
  /** CPUs this process may use (os.availableParallelism). */
  cores: number;
  cpuModel: string;
  /** The 1-minute load average when calibrated. */
  loadAverage: number;
  /** p50 of the empty gRPC call, in ms (see the module's doc). */
  grpcEmptyP50Ms: number;
  /** How many calls the p50 is of. */
  grpcEmptyCalls: number;
  referenceGrpcEmptyP50Ms: number;
  /** What the waits are multiplied by: timeScale(grpcEmptyP50Ms). */
  timeScale: number;
}

/** The factor waits written for the reference machine are multiplied by (module doc). */
export function timeScale(grpcEmptyP50Ms: number): number {
  if (!Number.isFinite(grpcEmptyP50Ms) || grpcEmptyP50Ms <= 0) throw new Error(`a calibration figure must be a positive number of ms, got ${grpcEmptyP50Ms}`);
  return Math.round(Math.min(maxTimeScale, Math.max(1, grpcEmptyP50Ms / referenceGrpcEmptyP50Ms)) * 100) / 100;
}

/** `ms` written for the reference machine, as long as it should be on a machine of `scale`. */
export const scaled = (ms: number, scale: number) => Math.round(ms * scale);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Measures this machine: `calls` timed empty gRPC calls after as many warm-up calls. */
export async function calibrate(calls = 300): Promise<MachineProfile> {
  const tmp = await makeTempRoot('calibrate');
  try {
    const echo = await startEcho(join(tmp.path, 'echo.sock'));
    try {
      for (let i = 0; i < calls; i++) await echo.call();
      const samples: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await echo.call();
        samples.push(performance.now() - t);
      }
      const p50 = Math.round(median(samples) * 1000) / 1000;
      return {
        cores: availableParallelism(),
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        loadAverage: Math.round(loadavg()[0]! * 100) / 100,
        grpcEmptyP50Ms: p50,
        grpcEmptyCalls: calls,
        referenceGrpcEmptyP50Ms,
        timeScale: timeScale(p50),
      };
    } finally {
      await echo.close();
    }
  } finally {
    await tmp.cleanup();
  }
}

/** E.g. "2 cores (AMD EPYC), load 5.2; empty gRPC call p50 0.21 ms (reference 0.05 ms): waits ×4.2". */
export function describeMachine(m: MachineProfile): string {
  return `${m.cores} cores (${m.cpuModel}), load ${m.loadAverage}; empty gRPC call p50 ${m.grpcEmptyP50Ms} ms (reference ${m.referenceGrpcEmptyP50Ms} ms): waits ×${m.timeScale}`;
}
