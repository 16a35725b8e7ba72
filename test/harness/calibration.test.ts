/**
 * The run's calibration (harness/calibration.ts): the time-scale formula, stated here as
 * the README states it, and a real measurement on this machine.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { calibrate, describeMachine, timeScale } from '../../harness/calibration.js';

describe('timeScale', () => {
  it('is p50 / 0.05 ms, never below 1, at most 10', () => {
    expect(timeScale(0.05)).toBe(1);
    expect(timeScale(0.27)).toBe(5.4);
    expect(timeScale(0.1)).toBe(2);
    expect(timeScale(0.01)).toBe(1);
    expect(timeScale(0.5)).toBe(10);
    expect(timeScale(3)).toBe(10);
  });

  it('refuses a figure that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => timeScale(bad)).toThrow(/positive number of ms/);
  });
});

describe('calibrate', () => {
  it('measures 300 empty gRPC calls on this machine and derives the scale from their p50', async () => {
    const m = await calibrate();
    expect(m.cores).toBe(availableParallelism());
    expect(m.grpcEmptyCalls).toBe(300);
    expect(m.referenceGrpcEmptyP50Ms).toBe(0.05);
    // An empty call on a unix socket takes microseconds to a few milliseconds, never nothing.
    expect(m.grpcEmptyP50Ms).toBeGreaterThan(0.001);
    expect(m.grpcEmptyP50Ms).toBeLessThan(50);
    expect(m.timeScale).toBeCloseTo(Math.min(10, Math.max(1, m.grpcEmptyP50Ms / 0.05)), 1);
    expect(describeMachine(m)).toMatch(/^\d+ cores \(.+\), load [\d.]+; empty gRPC call p50 [\d.]+ ms \(reference 0\.05 ms\): waits ×[\d.]+$/);
  });
});
