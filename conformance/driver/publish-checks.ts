/**
 * The publish checks: a publish down to the tmpfs, the atomic layout, the modes, the
 * SecretProviderClassPodStatus (and taking over one another node left), the Mount request
 * the provider received, the extensions fsGroup ownership and unset modes, idempotent
 * republish and unpublish.
 */
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import { beyondUpstream, volumeMountGroupCapability } from '../contract/extensions.js';
import { visibleNames } from '../contract/file-layout.js';
import { kubeletTargetPath } from '../contract/kubelet.js';
import { expectedPodStatus, nodeNameLabel, podOwner, podStatusApiVersion, podStatusName, podStatusResource } from '../contract/pod-status.js';
import { defaultFilePermission, mountAttributes, permissionWire } from '../contract/provider-wire.js';
import { expect, fail, pass, skip, type CheckDef } from '../check.js';
import { namespace } from './driver-env.js';
import { describeRpc, type DriverKit } from './driver-kit.js';
import { spcNames } from './kit-spcs.js';
import { replyOf } from './rpc-expectations.js';
import { describeState, inspectLayout, mountsAt, targetState } from './target-inspection.js';

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

export const publishChecks: ReadonlyArray<CheckDef<DriverKit>> = [
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
      const stale = { podName: pod.name, secretProviderClassName: spcNames.main, targetPath: kubeletTargetPath('/var/lib/kubelet', pod.uid, 'secrets'), mounted: true, objects: [] };
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
];
