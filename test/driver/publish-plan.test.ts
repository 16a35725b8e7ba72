/**
 * The publish decision as a table: every combination of what a publish can observe (why it
 * runs, what is at the target, whether the driver holds a record, rotation on or off,
 * whether a rotation is due, whether found content is fresh) against the rules written out
 * here, row by row, as DESIGN §3 and the rotation section of the README state them.
 */
import { describe, expect, it } from 'vitest';
import { planPublish, type PublishMode, type PublishPlan, type VolumeState } from '../../driver/publish-plan.js';

type Any<T> = T | '*';
interface Row {
  mode: Any<PublishMode>[] | '*';
  volume: Any<VolumeState>[] | '*';
  recorded: Any<boolean>;
  rotation: Any<boolean>;
  due: Any<boolean>;
  /** Content younger than the poll interval (only looked at for an unrecorded mounted volume). */
  fresh: Any<boolean>;
  plan: PublishPlan;
}

const rules: Row[] = [
  { mode: ['kubelet'], volume: ['absent'], recorded: '*', rotation: '*', due: '*', fresh: '*', plan: { action: 'first-mount', reset: false } },
  { mode: ['kubelet'], volume: ['incomplete'], recorded: '*', rotation: '*', due: '*', fresh: '*', plan: { action: 'first-mount', reset: true } },
  // The poller and refresh never make a volume that is not there (unpublished meanwhile).
  { mode: ['poll', 'refresh'], volume: ['absent', 'incomplete'], recorded: '*', rotation: '*', due: '*', fresh: '*', plan: { action: 'skip', reason: 'gone' } },
  { mode: ['refresh'], volume: ['mounted'], recorded: '*', rotation: '*', due: '*', fresh: '*', plan: { action: 'remount' } },
  { mode: ['poll'], volume: ['mounted'], recorded: false, rotation: '*', due: '*', fresh: '*', plan: { action: 'skip', reason: 'gone' } },
  { mode: ['poll'], volume: ['mounted'], recorded: true, rotation: '*', due: true, fresh: '*', plan: { action: 'remount' } },
  { mode: ['poll'], volume: ['mounted'], recorded: true, rotation: '*', due: false, fresh: '*', plan: { action: 'skip', reason: 'not-due' } },
  // Found mounted with no record: a driver restart. Adopt; fetch again only when rotation is on and the content is old.
  { mode: ['kubelet'], volume: ['mounted'], recorded: false, rotation: false, due: '*', fresh: '*', plan: { action: 'adopt-after-restart', ifAdopted: 'skip' } },
  { mode: ['kubelet'], volume: ['mounted'], recorded: false, rotation: true, due: '*', fresh: true, plan: { action: 'adopt-after-restart', ifAdopted: 'skip' } },
  { mode: ['kubelet'], volume: ['mounted'], recorded: false, rotation: true, due: '*', fresh: false, plan: { action: 'adopt-after-restart', ifAdopted: 'remount' } },
  // The kubelet's republish: idempotent without rotation, a rotation when due with it.
  { mode: ['kubelet'], volume: ['mounted'], recorded: true, rotation: false, due: '*', fresh: '*', plan: { action: 'skip', reason: 'already-mounted' } },
  { mode: ['kubelet'], volume: ['mounted'], recorded: true, rotation: true, due: true, fresh: '*', plan: { action: 'remount' } },
  { mode: ['kubelet'], volume: ['mounted'], recorded: true, rotation: true, due: false, fresh: '*', plan: { action: 'skip', reason: 'not-due' } },
];

const modes: PublishMode[] = ['kubelet', 'poll', 'refresh'];
const volumes: VolumeState[] = ['absent', 'incomplete', 'mounted'];
const bools = [false, true];
const matches = <T>(want: Any<T>[] | Any<T>, got: T) => (Array.isArray(want) ? want.includes(got) : want === '*' || want === got);

describe('planPublish', () => {
  const interval = 120_000;
  let combinations = 0;
  for (const mode of modes)
    for (const volume of volumes)
      for (const recorded of bools)
        for (const rotation of bools)
          for (const due of bools)
            for (const fresh of bools) {
              combinations++;
              const name = `${mode}, ${volume}, ${recorded ? 'recorded' : 'no record'}, rotation ${rotation ? 'on' : 'off'}, ${due ? 'due' : 'not due'}, ${fresh ? 'fresh' : 'old'} content`;
              it(name, () => {
                const rows = rules.filter((r) => matches(r.mode, mode) && matches(r.volume, volume) && matches(r.recorded, recorded) && matches(r.rotation, rotation) && matches(r.due, due) && matches(r.fresh, fresh));
                expect(rows, 'exactly one rule applies').toHaveLength(1);
                const plan = planPublish({ mode, volume, recorded, rotationEnabled: rotation, due, contentAgeMs: fresh ? interval - 1 : interval, rotationPollIntervalMs: interval });
                expect(plan).toEqual(rows[0]!.plan);
              });
            }
  it('covers all 144 combinations', () => expect(combinations).toBe(144));

  it('treats content of unknown age found without a record as old', () => {
    expect(planPublish({ mode: 'kubelet', volume: 'mounted', recorded: false, rotationEnabled: true, due: true, rotationPollIntervalMs: interval })).toEqual({ action: 'adopt-after-restart', ifAdopted: 'remount' });
  });
});
