/**
 * The driver checks: DESIGN §2.2–§3 as the kubelet experiences them — Identity, the Node
 * RPCs and their validation codes, a publish down to the tmpfs, the atomic layout, the
 * modes and the SecretProviderClassPodStatus, idempotency, attacks through spec.provider
 * and file paths, provider failures, and no secret in the driver's output. After every
 * failed first mount the target must be left clean: a kubelet retry must start fresh.
 */
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { NodePublishVolumeRequest } from '../../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import { visibleNames } from '../contract/file-layout.js';
import { beyondUpstream, volumeMountGroupCapability } from '../contract/extensions.js';
import { defaultFilePermission, mountAttributes, permissionWire } from '../contract/provider-wire.js';
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import { expectedPodStatus, nodeNameLabel, podOwner, podStatusApiVersion, podStatusName, podStatusResource } from '../contract/pod-status.js';
import { expect, fail, pass, skip, type CheckDef } from '../check.js';
import { namespace, providerName } from './driver-env.js';
import { describeRpc, type DriverKit, type RpcOutcome } from './driver-kit.js';
import { spcNames } from './kit-spcs.js';
import { rotationChecks } from './rotation-checks.js';
import { syncChecks } from './sync-checks.js';
import { describeState, inspectLayout, isClean, mountsAt, targetState } from './target-inspection.js';

/** The reply of an RPC that must succeed; otherwise the check fails naming the RPC. */
async function replyOf<T>(kit: DriverKit, call: Promise<T>, rpc: string): Promise<T> {
  const o = await kit.rpc(call);
  expect(o.ok, `${rpc} failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
  return o.reply!;
}

/** The code must be `code`; evidence names what came back. */
function expectCode(o: RpcOutcome, code: string, what: string): void {
  expect(o.code === code, `${what}: expected ${code}, got ${describeRpc(o)}`, code, describeRpc(o));
}

async function expectClean(target: string, what: string): Promise<void> {
  const s = await targetState(target);
  expect(isClean(s), `${what}, but the target was left ${describeState(s)}: a kubelet retry would not start fresh`, 'not mounted, no files', describeState(s));
}

/** Polls until the target is clean or `timeoutMs` passes. */
async function eventuallyClean(target: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (isClean(await targetState(target))) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A first mount that must fail: publishes, expects an error, and a clean target. */
async function failedFirstMount(kit: DriverKit, podName: string, spc: string, deadlineMs?: number): Promise<{ outcome: RpcOutcome; target: string }> {
  const pod = kit.pod(podName);
  const target = await kit.target(pod.uid);
  const outcome = await kit.publish(kit.request(target, pod, spc), deadlineMs);
  expect(!outcome.ok, 'the publish succeeded where it had to fail', 'an error', describeRpc(outcome));
  expect(outcome.details.trim() !== '', `${outcome.code} without a message: the pod's FailedMount event would say nothing`, 'a message naming the cause', outcome);
  return { outcome, target };
}

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

/** Runs `body` with a provider fault set, clearing it whatever happens. */
async function withFault<T>(kit: DriverKit, fault: Parameters<DriverKit['env']['provider']['faults']['set']>[0], body: () => Promise<T>): Promise<T> {
  kit.env.provider.faults.set(fault);
  try {
    return await body();
  } finally {
    kit.env.provider.faults.clear();
  }
}

/** After a failure, the same volume must publish once the cause is gone (the driver holds nothing). */
async function recovers(kit: DriverKit, podName: string, target: string): Promise<string> {
  const pod = kit.pod(podName);
  const again = await kit.publish(kit.request(target, pod, kit.mainSpc()));
  expect(again.ok, `after the fault was cleared the retry still failed: ${describeRpc(again)}`, 'OK', describeRpc(again));
  const un = await kit.unpublish(target);
  expect(un.ok, `unpublish after the retry failed: ${describeRpc(un)}`, 'OK', describeRpc(un));
  return `the kubelet's retry after the fault succeeded (${again.ms.toFixed(0)} ms)`;
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

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
  {
    id: 'publish-tmpfs',
    group: 'publish',
    title: 'NodePublishVolume mounts a tmpfs at the target path',
    async run(kit) {
      const p = await kit.published();
      expect(p.outcome.ok, `the publish failed: ${describeRpc(p.outcome)}`, 'OK', describeRpc(p.outcome));
      if (process.getuid?.() !== 0) return skip(`published OK (${p.outcome.ms.toFixed(0)} ms), but the kit does not run as root, so the driver cannot be expected to mount: run the kit as root to check the tmpfs`);
      const mounts = await mountsAt(p.target);
      expect(mounts.length === 1 && mounts[0]!.fsType === 'tmpfs', `the target is ${mounts.length === 0 ? 'not a mount point' : mounts.map((m) => m.fsType).join(' over ')}: secrets would sit on the node's disk`, 'one tmpfs mount', mounts);
      return pass(`OK in ${p.outcome.ms.toFixed(0)} ms; one tmpfs mount at the target`, { publishMs: Number(p.outcome.ms.toFixed(1)) });
    },
  },
  {
    id: 'publish-layout',
    group: 'publish',
    title: 'the files are laid out atomically: ..data → one payload dir, visible names linking through ..data',
    async run(kit) {
      const { target } = await kit.okPublished();
      const visible = visibleNames(kit.env.objects.map((o) => o.fileName));
      const layout = await inspectLayout(target, visible);
      expect(layout.problems.length === 0, `layout problems: ${layout.problems.join('; ')}`, 'the projected-volume layout', layout.problems);
      return pass(`..data → ${layout.data}; ${visible.join(', ')} link through ..data`);
    },
  },
  {
    id: 'publish-contents',
    group: 'publish',
    title: "every file holds the provider's bytes with the requested mode (0644 where none is set)",
    async run(kit) {
      const { target } = await kit.okPublished();
      const seen: string[] = [];
      for (const o of kit.env.objects) {
        const path = join(target, o.fileName);
        const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => fail(`${o.fileName} cannot be read: ${err.code}`));
        expect(bytes.toString() === o.contents, `${o.fileName} does not hold the provider's bytes (${bytes.length} bytes, expected ${o.contents.length})`, `${o.contents.length} bytes`, `${bytes.length} bytes`);
        const mode = (await stat(path)).mode & 0o777;
        const want = o.mode ?? defaultFilePermission;
        expect(mode === want, `${o.fileName} has mode 0${mode.toString(8)}`, `0${want.toString(8)}`, `0${mode.toString(8)}`);
        seen.push(`${o.fileName} 0${mode.toString(8)}`);
      }
      return pass(seen.join(', '));
    },
  },
  {
    id: 'publish-spcps',
    group: 'publish',
    title: 'a SecretProviderClassPodStatus records the mount: name, node label, owner pod, objects sorted with versions',
    async run(kit) {
      const { pod, target } = await kit.okPublished();
      const name = podStatusName(pod.name, namespace, 'conformance-spc');
      const obj = kit.env.api.store.get(podStatusResource, namespace, name);
      expect(obj !== undefined, `no SecretProviderClassPodStatus ${namespace}/${name}`, name, kit.env.api.store.list(podStatusResource, { namespace }).map((o) => o.metadata.name));
      const label = obj.metadata.labels?.[nodeNameLabel];
      expect(label === kit.env.nodeId, `label ${nodeNameLabel} is ${JSON.stringify(label)}`, kit.env.nodeId, label);
      const owners = obj.metadata.ownerReferences ?? [];
      const owner = podOwner(pod);
      expect(owners.length === 1 && owners[0]!.kind === owner.kind && owners[0]!.apiVersion === owner.apiVersion && owners[0]!.name === owner.name && owners[0]!.uid === owner.uid, 'the owner is not the pod', owner, owners);
      const st = (obj.status ?? {}) as { podName?: string; secretProviderClassName?: string; targetPath?: string; mounted?: boolean; objects?: Array<{ id: string; version: string }> };
      const expected = expectedPodStatus({ pod: pod.name, spc: 'conformance-spc', targetPath: target, objects: kit.env.objects.map((o) => ({ id: o.name, version: 'v1' })) });
      const got = { podName: st.podName, secretProviderClassName: st.secretProviderClassName, targetPath: st.targetPath, mounted: st.mounted, objects: st.objects };
      expect(JSON.stringify(got) === JSON.stringify(expected), 'the status does not record the mount', expected, got);
      return pass(`${name}: mounted, ${expected.objects.length} objects ${expected.objects.map((o) => `${o.id}@${o.version}`).join(', ')}`);
    },
  },
  {
    id: 'provider-request',
    group: 'publish',
    title: "the provider's Mount request: attributes = the SPC parameters with the volume context over them and the tokens, secrets = the nodePublish secrets, permission \"420\", the target path",
    async run(kit) {
      const p = await kit.okPublished();
      const got = kit.env.received.find((r) => r.pod === p.pod.name && r.at >= p.sentAt);
      if (!got) fail(`the provider received no Mount for ${p.pod.name}`, 'one Mount', 'none');
      const req = got.request;
      const parse = (text: string, field: string) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return fail(`${field} is not JSON`, 'JSON', `${text.length} characters`);
        }
      };
      const attributes = parse(req.attributes, 'attributes') as Record<string, string>;
      const want = mountAttributes({ objects: kit.objectsParameter() }, p.request.volume_context ?? {}, p.request.secrets ?? {});
      const keys = (o: object) => Object.keys(o).sort();
      const wrong = [...new Set([...keys(want), ...keys(attributes)])].filter((k) => attributes[k] !== want[k]);
      expect(wrong.length === 0, `attributes differ at ${wrong.join(', ')}`, keys(want), keys(attributes));
      const secrets = parse(req.secrets, 'secrets') as Record<string, string> | null;
      const sent = kit.env.nodePublishSecrets;
      const secretKeysOk = secrets !== null && keys(secrets).join() === keys(sent).join() && Object.entries(sent).every(([k, v]) => secrets[k] === v);
      expect(secretKeysOk, "secrets is not the nodePublish secrets' JSON map", keys(sent), secrets === null ? null : keys(secrets));
      expect(req.permission === permissionWire(defaultFilePermission), `permission is ${JSON.stringify(req.permission)}`, permissionWire(defaultFilePermission), req.permission);
      expect(req.target_path === p.target, `target_path is ${JSON.stringify(req.target_path)}`, p.target, req.target_path);
      expect(req.current_object_version.length === 0, 'a first mount sent current_object_version', [], req.current_object_version);
      return pass(`attributes ${keys(attributes).length} keys as the contract says; secrets ${keys(sent).length} keys; permission ${req.permission}; target path`);
    },
  },
  {
    id: 'spcps-takeover',
    group: 'publish',
    title: "a SecretProviderClassPodStatus of the same name left by another node (a StatefulSet pod that moved) is taken over: this node's label, the new target",
    async run(kit) {
      const pod = kit.pod('conformance-moved');
      const name = podStatusName(pod.name, namespace, spcNames.main);
      const stale = { podName: pod.name, secretProviderClassName: spcNames.main, targetPath: `/var/lib/kubelet/pods/${pod.uid}/volumes/kubernetes.io~csi/secrets/mount`, mounted: true, objects: [] };
      kit.env.api.store.create(podStatusResource, {
        apiVersion: podStatusApiVersion,
        kind: 'SecretProviderClassPodStatus',
        metadata: { name, namespace, labels: { [nodeNameLabel]: 'previous-node' }, ownerReferences: [podOwner(pod)] },
        status: stale,
      } as KubeObject);
      const target = await kit.target(pod.uid);
      const o = await kit.publish(kit.request(target, pod, spcNames.main));
      expect(o.ok, `the publish failed with the old pod status in place: ${describeRpc(o)}`, 'OK', describeRpc(o));
      try {
        const obj = kit.env.api.store.get(podStatusResource, namespace, name);
        const label = obj?.metadata.labels?.[nodeNameLabel];
        const st = (obj?.status ?? {}) as { targetPath?: string; objects?: unknown[] };
        expect(label === kit.env.nodeId, `the pod status is still labelled ${JSON.stringify(label)}: this node's sync would not see it`, kit.env.nodeId, label);
        expect(st.targetPath === target && (st.objects?.length ?? 0) === kit.env.objects.length, 'the pod status still records the old mount', { targetPath: target, objects: kit.env.objects.length }, { targetPath: st.targetPath, objects: st.objects?.length ?? 0 });
        return pass(`${name}: relabelled ${kit.env.nodeId}, target and ${kit.env.objects.length} objects recorded`);
      } finally {
        await kit.unpublish(target);
      }
    },
  },
  {
    id: 'fsgroup-ownership',
    group: 'publish',
    title: "with volume_mount_group (the pod's fsGroup), the volume's files are owned by that group and group-readable",
    beyondUpstream: beyondUpstream.fsGroup,
    async run(kit) {
      const caps = (await replyOf(kit, kit.client.nodeGetCapabilities({}), 'NodeGetCapabilities')).capabilities.map((c) => c.rpc?.type);
      expect(caps.includes(volumeMountGroupCapability), `NodeGetCapabilities does not advertise ${volumeMountGroupCapability} (${caps.join(', ')}): the kubelet would not pass the fsGroup`, volumeMountGroupCapability, caps);
      const gid = 4321;
      const pod = kit.pod('conformance-fsgroup');
      const target = await kit.target(pod.uid);
      const o = await kit.publish(kit.request(target, pod, kit.mainSpc(), { volumeMountGroup: String(gid) }));
      expect(o.ok, `the publish with volume_mount_group ${gid} failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
      try {
        const problems: string[] = [];
        for (const obj of kit.env.objects) {
          const st = await stat(join(target, obj.fileName));
          if (st.gid !== gid) problems.push(`${obj.fileName} group ${st.gid}`);
          if ((st.mode & 0o040) === 0) problems.push(`${obj.fileName} mode 0${(st.mode & 0o777).toString(8)} not group-readable`);
        }
        for (const name of await readdir(target)) {
          const st = await lstat(join(target, name));
          if (st.gid !== gid) problems.push(`${name} group ${st.gid}`);
        }
        expect(problems.length === 0, `not owned by group ${gid}: ${problems.join(', ')}`, `group ${gid}, group-readable`, problems);
        return pass(`every file, directory and link group ${gid}, files group-readable`);
      } finally {
        await kit.unpublish(target);
      }
    },
  },
  {
    id: 'mode-unset',
    group: 'publish',
    title: 'a file the provider returns with mode 0 (not set) gets the permission of the request (0644)',
    beyondUpstream: beyondUpstream.modeUnset,
    async run(kit) {
      const pod = kit.pod('conformance-mode-unset');
      const target = await kit.target(pod.uid);
      const o = await kit.publish(kit.request(target, pod, spcNames.modeUnset));
      expect(o.ok, `the publish failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
      try {
        const mode = (await stat(join(target, 'db-username'))).mode & 0o777;
        expect(mode === defaultFilePermission, `db-username, returned with mode 0, has mode ${octal(mode)}`, octal(defaultFilePermission), octal(mode));
        return pass(`db-username ${octal(mode)}`);
      } finally {
        await kit.unpublish(target);
      }
    },
  },
  {
    id: 'republish-idempotent',
    group: 'publish',
    title: 'publishing the same volume again (the kubelet republishes) succeeds and stacks nothing',
    async run(kit) {
      const p = await kit.okPublished();
      const before = await readFile(join(p.target, kit.env.objects[0]!.fileName), 'utf8');
      const again = await kit.publish(kit.request(p.target, p.pod, 'conformance-spc', { secrets: kit.env.nodePublishSecrets }));
      expect(again.ok, `the republish failed: ${describeRpc(again)}`, 'OK', describeRpc(again));
      const mounts = await mountsAt(p.target);
      expect(mounts.length <= 1, `${mounts.length} mounts stacked on the target`, 1, mounts.length);
      const after = await readFile(join(p.target, kit.env.objects[0]!.fileName), 'utf8');
      expect(after === before, 'the content changed on a republish with unchanged objects', 'the same bytes', `${after.length} bytes`);
      return pass(`OK in ${again.ms.toFixed(0)} ms; ${mounts.length} mount, content unchanged`);
    },
  },
  {
    id: 'unpublish',
    group: 'publish',
    title: 'NodeUnpublishVolume unmounts and removes the target',
    async run(kit) {
      const p = await kit.okPublished();
      const o = await kit.unpublish(p.target);
      expect(o.ok, `NodeUnpublishVolume failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
      const s = await targetState(p.target);
      expect(s.mounts === 0 && s.entries === null, `after unpublish the target is ${describeState(s)}`, 'not mounted, no directory', describeState(s));
      return pass(`OK in ${o.ms.toFixed(0)} ms; unmounted and removed`);
    },
  },
  {
    id: 'unpublish-idempotent',
    group: 'publish',
    title: 'unpublishing again, or a target that never existed, succeeds',
    async run(kit) {
      const p = await kit.published();
      const again = await kit.unpublish(p.target);
      expect(again.ok, `a second NodeUnpublishVolume failed: ${describeRpc(again)}`, 'OK', describeRpc(again));
      const never = await kit.unpublish(await kit.target(kit.pod('conformance-never').uid));
      expect(never.ok, `NodeUnpublishVolume of a target that never existed failed: ${describeRpc(never)}`, 'OK', describeRpc(never));
      return pass('both OK');
    },
  },
  ...rotationChecks,
  ...syncChecks,
  {
    id: 'missing-spc',
    group: 'failures',
    title: "a SecretProviderClass missing from the pod's namespace fails, naming it, with the target left clean",
    async run(kit) {
      const { outcome, target } = await failedFirstMount(kit, 'conformance-missing-spc', spcNames.elsewhere);
      expect(outcome.details.includes('conformance-elsewhere') && outcome.details.includes(namespace), 'the message does not name the SecretProviderClass and the namespace', `conformance-elsewhere in ${namespace}`, outcome.details);
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'provider-name-attack',
    group: 'failures',
    title: 'a spec.provider with a path in it ("../trap") is refused without contacting anything, target left clean',
    async run(kit) {
      const before = kit.env.trap.service.requests;
      const { outcome, target } = await failedFirstMount(kit, 'conformance-provider-attack', spcNames.attack);
      const calls = kit.env.trap.service.requests - before;
      expect(calls === 0, `the driver called the socket "../trap" resolves to (${calls} Mount call(s)): the provider name must match ^[a-zA-Z0-9_-]{0,30}$`, 0, calls);
      await expectClean(target, 'the mount was refused');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'file-path-attack',
    group: 'failures',
    title: 'a provider file path leaving the volume ("../escaped-secret") fails the mount, nothing written outside, target left clean',
    async run(kit) {
      const { outcome, target } = await withFault(kit, { mode: 'bad-path' }, () => failedFirstMount(kit, 'conformance-path-attack', kit.mainSpc()));
      for (const dir of [dirname(target), target]) {
        const escaped = await stat(join(dir, 'escaped-secret')).catch(() => undefined);
        expect(escaped === undefined, `escaped-secret was written to ${dir}`, 'nothing outside the payload', join(dir, 'escaped-secret'));
      }
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'provider-unavailable',
    group: 'failures',
    title: 'a provider answering UNAVAILABLE fails the mount naming the provider, target left clean; the retry then works',
    async run(kit) {
      const { outcome, target } = await withFault(kit, { mode: 'unavailable' }, () => failedFirstMount(kit, 'conformance-unavailable', kit.mainSpc()));
      expect(outcome.details.includes(providerName), 'the message does not name the provider', providerName, outcome.details);
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}; ${await recovers(kit, 'conformance-unavailable', target)}`);
    },
  },
  {
    id: 'provider-error',
    group: 'failures',
    title: "a provider error code fails the mount with the code in the message, target left clean",
    async run(kit) {
      const { outcome, target } = await withFault(kit, { mode: 'error', code: 'ConformanceFault' }, () => failedFirstMount(kit, 'conformance-provider-error', kit.mainSpc()));
      expect(outcome.details.includes('ConformanceFault'), "the message does not carry the provider's error code", 'ConformanceFault', outcome.details);
      await expectClean(target, 'the mount failed');
      return pass(`${outcome.code}: ${outcome.details}`);
    },
  },
  {
    id: 'provider-deadline',
    group: 'failures',
    title: "a provider that never answers fails the mount by the kubelet's deadline, the target is cleaned, and the retry works",
    async run(kit) {
      const deadline = kit.options.hangDeadlineMs;
      const { outcome, target } = await withFault(kit, { mode: 'hang' }, async () => {
        const r = await failedFirstMount(kit, 'conformance-deadline', kit.mainSpc(), deadline);
        // The driver may still be unwinding after the caller gave up; give it a little past the deadline.
        const clean = await eventuallyClean(r.target, deadline + 5000);
        const left = clean ? '' : describeState(await targetState(r.target));
        expect(clean, `${deadline + 5000} ms after the deadline the target is still ${left}`, 'clean', left);
        return r;
      });
      return pass(`${outcome.code} after ${outcome.ms.toFixed(0)} ms (deadline ${deadline} ms): ${outcome.details}; ${await recovers(kit, 'conformance-deadline', target)}`);
    },
  },
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
