/**
 * The rotation schedule and the poller's passes in-process, on a manual clock: when a volume
 * is due, how its backoff grows and ends, how a pass groups the due volumes by provider, and
 * that a pass runs each provider's volumes concurrently but never more than the bound at
 * once. The publisher here is a recorder of refetch calls that the test finishes by hand; the
 * process test (rotation-process.test.ts) checks the same through the driver binary.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../harness/manual-clock.js';
import { RotationPoller } from '../../driver/rotation/rotation-poller.js';
import { forEachBounded, planPass, rotationBackoff, RotationSchedule } from '../../driver/rotation/rotation-schedule.js';
import { createLogger } from '../../log/logger.js';

const minute = 60_000;

describe('rotation schedule', () => {
  it('makes a volume due once the interval has passed since its last fetch', () => {
    const clock = new ManualClock();
    const s = new RotationSchedule(clock, 2 * minute);
    expect(s.due('/never-fetched')).toBe(true);
    s.fetched('/v');
    expect(s.due('/v')).toBe(false);
    clock.advance(2 * minute - 1);
    expect(s.due('/v')).toBe(false);
    clock.advance(1);
    expect(s.due('/v')).toBe(true);
    s.fetched('/v');
    expect(s.due('/v')).toBe(false);
  });

  it('backs off after failures in a row: the interval, doubling, at most 10 intervals; a success ends it', () => {
    const clock = new ManualClock();
    const s = new RotationSchedule(clock, minute);
    s.fetched('/v');
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      s.failed('/v');
      let waited = 0;
      while (!s.due('/v')) {
        clock.advance(1000);
        waited += 1000;
      }
      waits.push(waited / minute);
    }
    expect(waits).toEqual([1, 2, 4, 8, 10, 10]);
    s.failed('/v');
    expect(s.backingOff('/v')).toBe(true);
    s.fetched('/v');
    expect(s.backingOff('/v')).toBe(false);
    clock.advance(minute);
    expect(s.due('/v')).toBe(true);
    s.failed('/v');
    clock.advance(minute);
    expect(s.due('/v'), 'the first failure after a success waits one interval again').toBe(true);
  });

  it('forgets an unpublished volume', () => {
    const clock = new ManualClock();
    const s = new RotationSchedule(clock, minute);
    s.failed('/v');
    s.forget('/v');
    expect(s.backingOff('/v')).toBe(false);
    expect(s.due('/v')).toBe(true);
  });

  it.each([
    [0, 1000, 10_000],
    [500, 1000, 10_000],
    [2 * minute, 2 * minute, 10 * minute],
    [30 * minute, 30 * minute, 30 * minute],
  ])('with an interval of %i ms backs off from %i ms up to %i ms', (interval, base, max) => {
    expect(rotationBackoff(interval)).toEqual({ baseMs: base, maxMs: max });
  });
});

describe('a rotation pass', () => {
  it('takes the due volumes, grouped by provider, in order', () => {
    const clock = new ManualClock();
    const s = new RotationSchedule(clock, minute);
    s.fetched('/b1');
    clock.advance(minute);
    s.fetched('/a2'); // fetched just now: not due
    const plan = planPass(
      [
        { targetPath: '/a1', provider: 'a' },
        { targetPath: '/b1', provider: 'b' },
        { targetPath: '/a2', provider: 'a' },
        { targetPath: '/a3', provider: 'a' },
      ],
      s,
    );
    expect([...plan]).toEqual([
      ['a', ['/a1', '/a3']],
      ['b', ['/b1']],
    ]);
  });

  it('runs every item, at most the bound at once', async () => {
    let inflight = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachBounded(Array.from({ length: 50 }, (_, i) => i), 7, async (i) => {
      peak = Math.max(peak, ++inflight);
      await new Promise((r) => setImmediate(r));
      inflight--;
      done.push(i);
    });
    expect(peak).toBe(7);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await forEachBounded([], 3, async () => {
      throw new Error('never called');
    });
  });
});

/** A publisher whose refetches stay open until the test finishes them. */
function heldPublisher() {
  const open = new Map<string, () => void>();
  const calls: string[] = [];
  return {
    calls,
    open,
    refetch(target: string, mode: 'poll' | 'refresh') {
      expect(mode).toBe('poll');
      calls.push(target);
      return new Promise<undefined>((resolve) => open.set(target, () => (open.delete(target), resolve(undefined))));
    },
    finishAll() {
      for (const finish of [...open.values()]) finish();
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('rotation poller', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });
  const volumes = [
    ...Array.from({ length: 10 }, (_, i) => ({ targetPath: `/a${i}`, provider: 'a' })),
    ...Array.from({ length: 3 }, (_, i) => ({ targetPath: `/b${i}`, provider: 'b' })),
  ];

  it('refetches each provider\'s due volumes concurrently, at most the bound at once, the providers side by side', async () => {
    const clock = new ManualClock();
    const schedule = new RotationSchedule(clock, minute);
    const publisher = heldPublisher();
    const poller = new RotationPoller(publisher, { volumes: () => volumes.values() }, schedule, { perProviderBound: 4, clock }, logger);
    const pass = poller.pass();
    await settle();
    // 4 of provider a (its bound) and all 3 of b at once.
    expect([...publisher.open.keys()].sort()).toEqual(['/a0', '/a1', '/a2', '/a3', '/b0', '/b1', '/b2']);
    publisher.open.get('/a1')!();
    await settle();
    expect(publisher.open.has('/a4')).toBe(true);
    expect([...publisher.open.keys()].filter((t) => t.startsWith('/a'))).toHaveLength(4);
    // A pass asked for meanwhile starts nothing of its own.
    const second = poller.pass();
    await settle();
    expect(publisher.calls).toHaveLength(8);
    while (publisher.open.size > 0) {
      expect([...publisher.open.keys()].filter((t) => t.startsWith('/a')).length).toBeLessThanOrEqual(4);
      publisher.finishAll();
      await settle();
    }
    expect(await pass).toBe(13);
    expect(await second).toBe(0);
    expect(publisher.calls.filter((t) => t.startsWith('/a'))).toEqual(volumes.filter((v) => v.provider === 'a').map((v) => v.targetPath));
  });

  it('skips volumes that are not due and ticks twice per interval on its clock', async () => {
    const clock = new ManualClock();
    const schedule = new RotationSchedule(clock, minute);
    for (const v of volumes) schedule.fetched(v.targetPath);
    const publisher = heldPublisher();
    const poller = new RotationPoller(publisher, { volumes: () => volumes.values() }, schedule, { perProviderBound: 32, clock }, logger).start();
    clock.advance(minute / 2);
    await settle();
    expect(publisher.calls, 'half an interval: nothing due').toEqual([]);
    clock.advance(minute / 2);
    await settle();
    expect(publisher.calls).toHaveLength(volumes.length);
    publisher.finishAll();
    poller.stop();
    expect(clock.timerCount).toBe(0);
  });
});
