import { posix } from 'node:path';
/**
 * Volume contexts and SecretProviderClass parameters: first the driver's request
 * validation alone (many cases, the rule stated here from the CSI spec and upstream), then
 * NodePublishVolume through the CSI socket with random volume contexts, random extra SPC
 * parameters (hostile keys included) and hostile pod identities. The invariants: a failed
 * publish leaves the target clean and answers a client error (never INTERNAL); a
 * successful one hands the provider every volume-context entry verbatim, over any SPC
 * parameter of the same name (pod identity cannot be spoofed through parameters), with
 * the other parameters beside them; a request with a sane pod identity and an existing
 * SPC always succeeds; the driver keeps serving.
 */
import * as grpc from '@grpc/grpc-js';
import { lstat } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsiError, Status } from '../../driver/csi-error.js';
import { validatePublishRequest, validateStageRequest, validateUnpublishRequest, validateUnstageRequest } from '../../driver/request-validation.js';
import { mountsUnder } from '../../driver/mount/mount-info.js';
import type { NodePublishVolumeRequest__Output } from '../../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { startHarness, type Harness } from '../helpers/driver-harness.js';
import { checkAsyncProperty, checkProperty, fuzzTimeout } from './fuzz-config.js';

/** The kubelet's volume-context keys (DESIGN §2.3), spelled here rather than imported. */
const keys = {
  spc: 'secretProviderClass',
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccount: 'csi.storage.k8s.io/serviceAccount.name',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
};

const text = fc.oneof(fc.constantFrom('', 'a', 'web-0', 'app.v1', '..', '/etc', 'é', ' ', 'x'.repeat(64), 'x'.repeat(254), 'X'), fc.string({ maxLength: 10 }));
const context = fc.dictionary(fc.oneof(text, fc.constantFrom(...Object.values(keys))), text, { maxKeys: 6 });
const capability = fc.oneof(
  fc.constant(null),
  fc.record({ mount: fc.record({ fs_type: text, mount_flags: fc.array(text, { maxLength: 2 }), volume_mount_group: fc.constantFrom('', '1000') }), block: fc.constant(null), access_mode: fc.constant({ mode: 'SINGLE_NODE_WRITER' }), access_type: fc.constant('mount') }),
  fc.record({ block: fc.constant({}), mount: fc.constant(null), access_mode: fc.constant({ mode: 'SINGLE_NODE_WRITER' }), access_type: fc.constant('block') }),
);

/** Kubernetes object names (kubernetes.io/docs, "Object Names and IDs"). */
const subdomain = (v: string) => v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v);
const label = (v: string) => v.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v);
/**
 * What a publish request must have: CSI spec §NodePublishVolume and upstream's nodeserver
 * (capability, id, target, context, read-only, no block), and, present in the context, names
 * Kubernetes can hold, with the pod status `<pod>-<namespace>-<spc>` within 253 characters.
 */
/** A target path as the kubelet sends it: absolute, no `.`/`..`/`//`, no trailing `/`, no NUL. */
const cleanAbsolute = (t: string) => t.startsWith('/') && posix.normalize(t) === t && (t === '/' || !t.endsWith('/')) && !t.includes('\0');

function publishValid(r: { volume_capability: unknown; volume_id: string; target_path: string; volume_context: Record<string, string>; readonly: boolean }): boolean {
  const ctx = r.volume_context;
  const [spc, pod, ns] = [ctx[keys.spc] ?? '', ctx[keys.podName] ?? '', ctx[keys.podNamespace] ?? ''];
  const names = (!spc || subdomain(spc)) && (!pod || subdomain(pod)) && (!ns || label(ns)) && !(spc && pod && ns && `${pod}-${ns}-${spc}`.length > 253);
  return r.volume_capability !== null && r.volume_id !== '' && cleanAbsolute(r.target_path) && Object.keys(ctx).length > 0 && !(r.volume_capability as { block: unknown }).block && r.readonly && names;
}

/** Runs a validator: true when it accepts, false when it refuses with INVALID_ARGUMENT; anything else fails. */
function accepts(validate: () => void): boolean {
  try {
    validate();
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(CsiError);
    expect((err as CsiError).code).toBe(Status.INVALID_ARGUMENT);
    expect((err as Error).message).not.toBe('');
    return false;
  }
}

describe('request validation (pure)', () => {
  it('accepts a publish request exactly when the CSI spec and upstream do', () => {
    const request = fc.record({ volume_id: text, target_path: text, staging_target_path: text, volume_capability: capability, readonly: fc.boolean(), volume_context: context, secrets: context, publish_context: context });
    checkProperty('publish/unpublish/stage request validation', 4000, fc.property(request, (r) => {
      expect(accepts(() => validatePublishRequest(r as unknown as NodePublishVolumeRequest__Output)), JSON.stringify(r).slice(0, 200)).toBe(publishValid(r));
      expect(accepts(() => validateUnpublishRequest({ volume_id: r.volume_id, target_path: r.target_path }))).toBe(r.volume_id !== '' && cleanAbsolute(r.target_path));
      expect(accepts(() => validateStageRequest(r as never))).toBe(r.volume_id !== '' && r.staging_target_path !== '' && r.volume_capability !== null);
      expect(accepts(() => validateUnstageRequest({ volume_id: r.volume_id, staging_target_path: r.staging_target_path }))).toBe(r.volume_id !== '' && r.staging_target_path !== '');
    }));
  });
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ objects: [{ name: 'db-password', contents: 'fuzz-value', version: 'v1' }] });
});
afterAll(async () => {
  await h?.close();
});

const saneName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const hostileName = fc.oneof(fc.constantFrom('', '..', '../x', 'a/b', 'A_B', 'x'.repeat(250), 'é', ' '), fc.string({ maxLength: 8 }));
/** SPC parameters beside `objects`: any keys, including the volume-context ones (spoofing). */
const extraParameters = fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(keys.podName, keys.podNamespace, keys.podUid, keys.serviceAccount, keys.spc, 'vaultAddress')).filter((k) => k !== 'objects' && !k.includes('serviceAccount.tokens')), text, { maxKeys: 5 });
const extraContext = fc.dictionary(fc.string({ maxLength: 10 }).filter((k) => !Object.values(keys).includes(k) && !k.includes('serviceAccount.tokens')), text, { maxKeys: 4 });
/** Which identity entry a case drops or blanks, if any. */
const damage = fc.constantFrom('none', 'none', 'none', 'drop-spc', 'blank-pod-name', 'drop-namespace', 'blank-uid', 'other-namespace');

describe('NodePublishVolume with random volume contexts and SPC parameters', () => {
  let n = 0;
  it('fails cleanly with a client error, or hands the provider the context verbatim over the parameters', { timeout: fuzzTimeout(60, 400) }, async () => {
    const outcomes: Record<string, number> = {};
    await checkAsyncProperty('publish with random volume contexts and SPC parameters', 60, fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: saneName }, { weight: 1, arbitrary: hostileName }), extraParameters, extraContext, damage, async (podName, params, extra, dmg) => {
      const i = n++;
      const spcName = `spc-${i}`;
      h.createSpc('default', spcName, { provider: 'fake', parameters: { ...params, objects: '- objectName: db-password' } });
      const uid = `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
      const ctx: Record<string, string> = { ...extra, [keys.spc]: spcName, [keys.podName]: podName, [keys.podNamespace]: 'default', [keys.podUid]: uid, [keys.serviceAccount]: 'default', [keys.ephemeral]: 'true' };
      if (dmg === 'drop-spc') delete ctx[keys.spc];
      if (dmg === 'blank-pod-name') ctx[keys.podName] = '';
      if (dmg === 'drop-namespace') delete ctx[keys.podNamespace];
      if (dmg === 'blank-uid') ctx[keys.podUid] = '';
      if (dmg === 'other-namespace') ctx[keys.podNamespace] = 'kube-public';
      const target = h.target(uid);
      const req = { volume_id: `csi-${uid}`, target_path: target, readonly: true, volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' as const } }, secrets: {}, volume_context: ctx };
      const err = await h.client.nodePublishVolume(req).then(
        () => null,
        (e: grpc.ServiceError) => e,
      );
      const sane = dmg === 'none' && subdomain(podName) && `${podName}-default-${spcName}`.length <= 253;
      if (err) {
        outcomes[grpc.status[err.code]!] = (outcomes[grpc.status[err.code]!] ?? 0) + 1;
        expect(sane, `a sane request failed: ${err.details}`).toBe(false);
        expect([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.FAILED_PRECONDITION], `${grpc.status[err.code]}: ${err.details}`).toContain(err.code);
        expect(err.details).not.toBe('');
        expect(await mountsUnder(target)).toEqual([]);
        await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
        return;
      }
      outcomes.OK = (outcomes.OK ?? 0) + 1;
      const state = (await (await fetch(`${h.provider.control}/state`)).json()) as { lastRequest: { attributes: Record<string, string> } };
      const attributes = state.lastRequest.attributes;
      for (const [k, v] of Object.entries(ctx)) expect(attributes[k], `volume context ${k}`).toBe(v);
      for (const [k, v] of Object.entries(params)) if (!(k in ctx)) expect(attributes[k], `parameter ${k}`).toBe(v);
      expect(attributes.objects).toBe('- objectName: db-password');
      await h.client.nodeUnpublishVolume({ volume_id: req.volume_id, target_path: target });
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    }));
    // Both ways out were taken, and the driver still serves.
    expect(outcomes.OK).toBeGreaterThan(0);
    expect(Object.keys(outcomes).length).toBeGreaterThan(1);
    expect((await h.client.probe({})).ready?.value ?? true).toBe(true);
  });
});
