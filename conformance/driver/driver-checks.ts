/**
 * The driver checks, in the order they run: Identity, the Node and Controller RPCs and the
 * validation codes (here), then publish (publish-checks.ts), rotation (rotation-checks.ts),
 * Secret sync (sync-checks.ts), failures of a first mount (failure-checks.ts), and last no
 * secret in the driver's output — DESIGN §2.2–§3 as the kubelet experiences them.
 */
import { join } from 'node:path';
import type { NodePublishVolumeRequest } from '../../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { expect, pass, skip, type CheckDef } from '../check.js';
import type { DriverKit } from './driver-kit.js';
import { failureChecks } from './failure-checks.js';
import { publishChecks } from './publish-checks.js';
import { rotationChecks } from './rotation-checks.js';
import { expectClean, expectCode, replyOf } from './rpc-expectations.js';
import { syncChecks } from './sync-checks.js';

/** A valid publish request for a fresh pod, changed by `mutate`, must be INVALID_ARGUMENT and touch nothing. */
function invalidPublish(id: string, title: string, mutate: (r: NodePublishVolumeRequest) => void): CheckDef<DriverKit> {
  return {
    id,
    group: 'validation',
    title,
    async run(kit) {
      const pod = kit.pod(`conformance-${id}`);
      const target = await kit.target(pod.uid);
      const req = kit.request(target, pod, kit.mainSpc());
      mutate(req);
      const o = await kit.publish(req);
      expectCode(o, 'INVALID_ARGUMENT', 'NodePublishVolume');
      await expectClean(target, 'the request was refused');
      return pass(`INVALID_ARGUMENT: ${o.details}`);
    },
  };
}

function invalidUnpublish(id: string, title: string, req: (target: string) => { volume_id: string; target_path: string }): CheckDef<DriverKit> {
  return {
    id,
    group: 'validation',
    title,
    async run(kit) {
      const target = await kit.target(kit.pod(`conformance-${id}`).uid);
      const o = await kit.rpc(kit.client.nodeUnpublishVolume(req(target)));
      expectCode(o, 'INVALID_ARGUMENT', 'NodeUnpublishVolume');
      return pass(`INVALID_ARGUMENT: ${o.details}`);
    },
  };
}

const base64Of = (s: string) => Buffer.from(s).toString('base64');

export const driverChecks: ReadonlyArray<CheckDef<DriverKit>> = [
  {
    id: 'plugin-info',
    group: 'identity',
    title: 'GetPluginInfo returns the driver name and a version',
    async run(kit) {
      const r = await replyOf(kit, kit.client.getPluginInfo({}), 'GetPluginInfo');
      expect(r.name === kit.options.driverName, `name is ${JSON.stringify(r.name)}`, kit.options.driverName, r.name);
      expect(r.vendor_version !== '', 'vendor_version is empty', 'a version', r.vendor_version);
      return pass(`name=${r.name} vendor_version=${r.vendor_version}`);
    },
  },
  {
    id: 'plugin-capabilities',
    group: 'identity',
    title: 'GetPluginCapabilities advertises CONTROLLER_SERVICE (as upstream, for generic CSI tooling)',
    async run(kit) {
      const r = await replyOf(kit, kit.client.getPluginCapabilities({}), 'GetPluginCapabilities');
      const types = r.capabilities.map((c) => c.service?.type ?? 'volume_expansion');
      expect(types.includes('CONTROLLER_SERVICE'), `capabilities are ${types.join(', ') || 'empty'}`, ['CONTROLLER_SERVICE'], types);
      return pass(`capabilities: ${types.join(', ')}`);
    },
  },
  {
    id: 'probe',
    group: 'identity',
    title: 'Probe reports ready',
    async run(kit) {
      const r = await replyOf(kit, kit.client.probe({}), 'Probe');
      const ready = r.ready;
      expect(ready === null || ready.value === true, 'Probe says not ready', true, ready);
      return pass(ready === null ? 'ready (unset, which the CSI spec reads as ready)' : 'ready=true');
    },
  },
  {
    id: 'node-capabilities',
    group: 'node',
    title: 'NodeGetCapabilities reports STAGE_UNSTAGE_VOLUME',
    async run(kit) {
      const r = await replyOf(kit, kit.client.nodeGetCapabilities({}), 'NodeGetCapabilities');
      const types = r.capabilities.map((c) => c.rpc?.type);
      expect(types.includes('STAGE_UNSTAGE_VOLUME'), `capabilities are ${types.join(', ') || 'empty'}`, ['STAGE_UNSTAGE_VOLUME'], types);
      return pass(`capabilities: ${types.join(', ')}`);
    },
  },
  {
    id: 'node-info',
    group: 'node',
    title: 'NodeGetInfo returns the --nodeid',
    async run(kit) {
      const r = await replyOf(kit, kit.client.nodeGetInfo({}), 'NodeGetInfo');
      expect(r.node_id === kit.env.nodeId, `node_id is ${JSON.stringify(r.node_id)}`, kit.env.nodeId, r.node_id);
      return pass(`node_id=${r.node_id}`);
    },
  },
  {
    id: 'stage-unstage',
    group: 'node',
    title: 'NodeStageVolume / NodeUnstageVolume validate (INVALID_ARGUMENT) and otherwise succeed',
    async run(kit) {
      const staging = join(kit.env.root, 'staging');
      const cap = { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' as const } };
      expectCode(await kit.rpc(kit.client.nodeStageVolume({ volume_id: 'csi-stage', staging_target_path: staging, volume_capability: cap })), 'OK', 'a valid NodeStageVolume');
      expectCode(await kit.rpc(kit.client.nodeStageVolume({ volume_id: '', staging_target_path: staging, volume_capability: cap })), 'INVALID_ARGUMENT', 'NodeStageVolume without volume_id');
      expectCode(await kit.rpc(kit.client.nodeStageVolume({ volume_id: 'csi-stage', staging_target_path: '', volume_capability: cap })), 'INVALID_ARGUMENT', 'NodeStageVolume without staging_target_path');
      expectCode(await kit.rpc(kit.client.nodeStageVolume({ volume_id: 'csi-stage', staging_target_path: staging })), 'INVALID_ARGUMENT', 'NodeStageVolume without volume_capability');
      expectCode(await kit.rpc(kit.client.nodeUnstageVolume({ volume_id: 'csi-stage', staging_target_path: staging })), 'OK', 'a valid NodeUnstageVolume');
      expectCode(await kit.rpc(kit.client.nodeUnstageVolume({ volume_id: '', staging_target_path: staging })), 'INVALID_ARGUMENT', 'NodeUnstageVolume without volume_id');
      expectCode(await kit.rpc(kit.client.nodeUnstageVolume({ volume_id: 'csi-stage', staging_target_path: '' })), 'INVALID_ARGUMENT', 'NodeUnstageVolume without staging_target_path');
      return pass('stage and unstage OK; missing volume_id, staging path or capability INVALID_ARGUMENT');
    },
  },
  {
    id: 'expand-unimplemented',
    group: 'node',
    title: 'NodeExpandVolume is UNIMPLEMENTED',
    async run(kit) {
      const o = await kit.rpc(kit.client.nodeExpandVolume({ volume_id: 'csi-x', volume_path: join(kit.env.root, 'x') }));
      expectCode(o, 'UNIMPLEMENTED', 'NodeExpandVolume');
      return pass('UNIMPLEMENTED');
    },
  },
  {
    id: 'controller-capabilities',
    group: 'controller',
    title: 'ControllerGetCapabilities returns one capability of type UNKNOWN; CreateVolume is UNIMPLEMENTED',
    async run(kit) {
      const r = await replyOf(kit, kit.client.controllerGetCapabilities({}), 'ControllerGetCapabilities');
      const types = r.capabilities.map((c) => c.rpc?.type);
      expect(types.length === 1 && types[0] === 'UNKNOWN', `capabilities are [${types.join(', ')}] (an empty list breaks generic CSI test suites)`, ['UNKNOWN'], types);
      expectCode(await kit.rpc(kit.client.createVolume({ name: 'conformance' })), 'UNIMPLEMENTED', 'CreateVolume');
      return pass('[UNKNOWN]; CreateVolume UNIMPLEMENTED');
    },
  },
  invalidPublish('publish-no-capability', 'NodePublishVolume without volume_capability is INVALID_ARGUMENT', (r) => void delete r.volume_capability),
  invalidPublish('publish-no-volume-id', 'NodePublishVolume without volume_id is INVALID_ARGUMENT', (r) => void (r.volume_id = '')),
  invalidPublish('publish-no-target-path', 'NodePublishVolume without target_path is INVALID_ARGUMENT', (r) => void (r.target_path = '')),
  invalidPublish('publish-no-volume-context', 'NodePublishVolume without volume_context is INVALID_ARGUMENT', (r) => void (r.volume_context = {})),
  invalidPublish('publish-not-readonly', 'NodePublishVolume with readonly false is INVALID_ARGUMENT', (r) => void (r.readonly = false)),
  invalidUnpublish('unpublish-no-volume-id', 'NodeUnpublishVolume without volume_id is INVALID_ARGUMENT', (t) => ({ volume_id: '', target_path: t })),
  invalidUnpublish('unpublish-no-target-path', 'NodeUnpublishVolume without target_path is INVALID_ARGUMENT', () => ({ volume_id: 'csi-conformance', target_path: '' })),
  ...publishChecks,
  ...rotationChecks,
  ...syncChecks,
  ...failureChecks,
  {
    id: 'no-secret-in-output',
    group: 'output',
    title: "no secret byte (objects, nodePublish secrets, tokens; raw or base64) appears in the driver's output",
    async run(kit) {
      const text = await kit.options.output();
      if (text === undefined) return skip('the kit did not start the driver and no --driver-log was given: it cannot read the output');
      const secrets = kit.env.secrets;
      const leaked = secrets.filter(({ value }) => text.includes(value) || text.includes(base64Of(value))).map(({ label }) => label);
      expect(leaked.length === 0, `the driver's output (${kit.options.outputSource}) contains ${leaked.join(', ')}`, 'none', leaked);
      return pass(`${text.length} characters of output (${kit.options.outputSource}) searched for ${secrets.length} secret values, raw and base64: none found`);
    },
  },
];
