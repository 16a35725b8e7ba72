/**
 * Republish with rotation enabled: past the poll interval a republish fetches again and
 * swaps in what changed; a failed remount keeps the content the pod already has.
 */
import * as grpc from '@grpc/grpc-js';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import { kubeletPublishRequest } from '../../harness/csi-client.js';
import { ManualClock } from '../../harness/manual-clock.js';
import { startHarness, type Harness } from '../helpers/driver-harness.js';
import { isRoot } from '../helpers/temp-root.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    objects: [
      { name: 'stable', contents: 'never-changes', version: '1' },
      { name: 'rotating', contents: 'first-value', version: '1' },
    ],
    driver: { enableSecretRotation: true, rotationPollIntervalMs: 0 },
    // Time stands still: the poller never ticks, so every fetch here is the republish's.
    clock: new ManualClock(),
  });
  h.createSpc('default', 'rot', { provider: 'fake', parameters: { objects: '- objectName: stable\n- objectName: rotating\n' } });
});
afterAll(async () => {
  await h?.close();
});

it('rotates changed objects on republish, keeps unchanged files, and survives a failed remount', async () => {
  const p = { name: 'rot-0', namespace: 'default', uid: '11111111-0000-4000-8000-000000000001' };
  const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'rot', pod: p });
  const target = req.target_path!;
  await h.client.nodePublishVolume(req);
  const stableBefore = await stat(join(target, 'stable'));

  await fetch(`${h.provider.control}/objects/rotating`, { method: 'PUT', body: JSON.stringify({ contents: 'second-value' }) });
  await h.client.nodePublishVolume(req);
  expect(await readFile(join(target, 'rotating'), 'utf8')).toBe('second-value');
  // The remount told the provider what the pod holds (upstream sends nothing).
  const state = (await (await fetch(`${h.provider.control}/state`)).json()) as { requests: number; lastRequest: { currentObjectVersion: unknown } };
  expect(state.lastRequest.currentObjectVersion).toEqual([
    { id: 'rotating', version: '1' },
    { id: 'stable', version: '1' },
  ]);
  const stableAfter = await stat(join(target, 'stable'));
  expect(stableAfter.ino).toBe(stableBefore.ino);
  expect(stableAfter.mtimeMs).toBe(stableBefore.mtimeMs);
  const status = h.api.store.get('secretproviderclasspodstatuses', 'default', 'rot-0-default-rot')!;
  expect((status.status as { objects: unknown }).objects).toEqual([
    { id: 'rotating', version: '2' },
    { id: 'stable', version: '1' },
  ]);

  await fetch(`${h.provider.control}/faults`, { method: 'PUT', body: JSON.stringify({ mode: 'error', code: 'Throttled' }) });
  const err = (await h.client.nodePublishVolume(req).catch((e) => e)) as grpc.ServiceError;
  expect(err.code).toBe(grpc.status.UNKNOWN);
  expect(err.details).toMatch(/error code "Throttled"/);
  expect(await readFile(join(target, 'rotating'), 'utf8')).toBe('second-value');
  if (isRoot) expect(await mountsUnder(target)).toHaveLength(1);
  // Backing off: the next republish does no provider call and keeps the old content.
  const before = ((await (await fetch(`${h.provider.control}/state`)).json()) as { requests: number }).requests;
  expect(await h.client.nodePublishVolume(req)).toEqual({});
  expect(((await (await fetch(`${h.provider.control}/state`)).json()) as { requests: number }).requests).toBe(before);
  expect(h.driver.records.get(target)?.lastRotation).toMatchObject({ result: 'failed', error: expect.stringMatching(/Throttled/) });
  expect(await h.driver.metrics.registry.getSingleMetricAsString('rotation_reconcile_error_total')).toMatch(
    /rotation_reconcile_error_total\{provider="fake",rotated="false",error_type="Throttled",os_type="linux"\} 1/,
  );
  await fetch(`${h.provider.control}/faults`, { method: 'DELETE' });

  await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: target });
  expect(await mountsUnder(target)).toEqual([]);
});

it('a remount asks for the SecretProviderClass and the pod status at once, not one after the other', async () => {
  const p = { name: 'rot-1', namespace: 'default', uid: '11111111-0000-4000-8000-000000000002' };
  const req = kubeletPublishRequest({ targetPath: h.target(p.uid), spc: 'rot', pod: p });
  await h.client.nodePublishVolume(req);
  // The SecretProviderClass's answer is held 400 ms: the pod status's read, sent beside it,
  // is answered first. One after the other, it would be sent only after that answer.
  const from = h.api.requestLog.length;
  h.api.faults.add({ verb: 'get', resource: 'secretproviderclasses', latencyMs: 400, count: 1 });
  expect(await h.client.nodePublishVolume(req)).toEqual({});
  const reads = h.api.requestLog.slice(from).filter((r) => r.verb === 'get' && r.user !== 'admin').map((r) => `${r.resource} ${r.code}`);
  expect(reads).toEqual(['secretproviderclasspodstatuses 200', 'secretproviderclasses 200']);
  await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: req.target_path! });
});
