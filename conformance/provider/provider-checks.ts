/**
 * The provider checks: the v1alpha1 contract of DESIGN §2.1 as a provider author would want
 * it judged — each a rule, a verdict and the evidence. They depend on nothing but the
 * socket and the SPC's parameters, so any provider can be checked, whatever its own
 * conventions for naming objects.
 */
import { volumeContextKeys } from '../contract/kubelet.js';
import { cleanForm, isValidMode, pathRule } from '../contract/provider-wire.js';
import { expect, fail, pass, skip, type CheckDef } from '../check.js';
import type { MountResponse__Output } from '../../proto/gen/v1alpha1/MountResponse.js';
import { describeOutcome, formatBytes } from './provider-probe.js';
import { tokensAttribute } from '../../sim/kubelet/service-account-token.js';
import { differences, kitPod, permissions, ProviderKit } from './provider-kit.js';

// Semantic Versioning 2.0.0, with the leading "v" many providers print.
const semver = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

const ruleLabels = {
  empty: 'empty',
  nul: 'contains a NUL byte',
  absolute: 'absolute',
  dotdot: 'has a ".." element',
  'dotdot-prefix': 'starts with ".." (reserved for the ..data layout)',
  unclean: 'not clean',
} as const;

/** Why a file path would make the driver fail the mount (the contract's rules), or undefined. */
function pathProblem(path: string): string | undefined {
  const rule = pathRule(path);
  if (rule === undefined) return undefined;
  return rule === 'unclean' ? `not clean (clean form ${JSON.stringify(cleanForm(path))})` : ruleLabels[rule];
}

/** Fails with the first `shown` differences unless the two replies agree. */
function expectSame(a: MountResponse__Output, b: MountResponse__Output, failure: string, expected: string, shown: number): void {
  const diff = differences(a, b);
  expect(diff.length === 0, `${failure}${diff.slice(0, shown).join('; ')}`, expected, diff);
}

const octal = (m: number) => `0${m.toString(8)}`;

export const providerChecks: ReadonlyArray<CheckDef<ProviderKit>> = [
  {
    id: 'version-answers',
    group: 'version',
    title: 'Version answers for v1alpha1 with a runtime name',
    async run(kit) {
      const v = await kit.version();
      expect(v.reply !== undefined, `Version failed: gRPC ${v.status?.code}: ${v.status?.details}`, 'a VersionResponse', v.status);
      const r = v.reply;
      expect(r.version === 'v1alpha1', `version is ${JSON.stringify(r.version)}, not "v1alpha1"`, 'v1alpha1', r.version);
      expect(r.runtime_name !== '', 'runtime_name is empty', 'a runtime name', r.runtime_name);
      return pass(`version=${r.version} runtime_name=${r.runtime_name} in ${v.ms.toFixed(1)} ms`, { ms: Number(v.ms.toFixed(2)) });
    },
  },
  {
    id: 'version-semver',
    group: 'version',
    title: 'runtime_version is a semantic version',
    async run(kit) {
      const v = await kit.version();
      expect(v.reply !== undefined, `Version failed: gRPC ${v.status?.code}: ${v.status?.details}`);
      const rv = v.reply.runtime_version;
      expect(semver.test(rv), `runtime_version ${JSON.stringify(rv)} is not semver (MAJOR.MINOR.PATCH[-pre][+build], an optional leading v)`, 'e.g. 1.4.2', rv);
      return pass(`runtime_version=${rv}`);
    },
  },
  {
    id: 'mount-succeeds',
    group: 'mount',
    title: "Mount with the SPC's parameters succeeds (status OK, no error code)",
    async run(kit) {
      const b = await kit.baseline();
      expect(b.reply !== undefined && !b.reply.error?.code, `the Mount failed: ${describeOutcome(b)}`, 'status OK and an empty error', describeOutcome(b));
      return pass(describeOutcome(b), { files: b.reply.files.length, objects: b.reply.object_version.length, ms: Number(b.ms.toFixed(2)) });
    },
  },
  {
    id: 'object-versions',
    group: 'mount',
    title: 'an object_version, with an id and a version, for every object',
    async run(kit) {
      const r = await kit.okBaseline();
      expect(r.object_version.length > 0, 'the reply has no object_version: the driver fails such a mount', 'at least one object version', []);
      const bad = r.object_version.filter((v) => v.id === '' || v.version === '');
      expect(bad.length === 0, `${bad.length} object version(s) without an id or a version`, 'id and version set', bad);
      const ids = r.object_version.map((v) => v.id);
      const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
      expect(dup.length === 0, `object ids repeated: ${[...new Set(dup)].join(', ')}`, 'unique ids', ids);
      return pass(`${ids.length} objects: ${r.object_version.map((v) => `${v.id}@${v.version}`).join(', ')}`);
    },
  },
  {
    id: 'file-paths',
    group: 'mount',
    title: 'only valid file paths: relative, clean, no "..", unique',
    async run(kit) {
      const r = await kit.okBaseline();
      const bad = r.files.map((f) => ({ path: f.path, problem: pathProblem(f.path) })).filter((f) => f.problem);
      expect(bad.length === 0, `invalid path(s), the driver fails the whole mount: ${bad.map((b) => `${JSON.stringify(b.path)} (${b.problem})`).join(', ')}`, 'relative clean paths', bad);
      const paths = r.files.map((f) => f.path);
      const dup = paths.filter((p, i) => paths.indexOf(p) !== i);
      expect(dup.length === 0, `paths repeated: ${[...new Set(dup)].join(', ')}`, 'unique paths', paths);
      return r.files.length === 0 ? pass('no files (the provider writes them itself, which is legal but deprecated)') : pass(`${paths.length} files: ${paths.join(', ')}`);
    },
  },
  {
    id: 'file-modes',
    group: 'mount',
    title: 'file modes within 0..511 (0 = not set)',
    async run(kit) {
      const r = await kit.okBaseline();
      const bad = r.files.filter((f) => !isValidMode(f.mode));
      expect(bad.length === 0, `mode out of range: ${bad.map((f) => `${f.path}=${f.mode}`).join(', ')}`, '0..511', bad.map((f) => ({ path: f.path, mode: f.mode })));
      return pass(r.files.map((f) => `${f.path}=${f.mode === 0 ? 'unset' : octal(f.mode)}`).join(', ') || 'no files');
    },
  },
  {
    id: 'permission',
    group: 'mount',
    title: 'the requested permission is honoured where the provider sets no mode of its own',
    async run(kit) {
      const first = await kit.okBaseline();
      const second = ProviderKit.success(await kit.probe.mount(kit.request({ permission: permissions.second })), `Mount with permission ${permissions.second} (${octal(permissions.second)})`);
      const modes2 = new Map(second.files.map((f) => [f.path, f.mode]));
      const follow: string[] = [];
      const own: string[] = [];
      const unset: string[] = [];
      const wrong: string[] = [];
      for (const f of first.files) {
        const m2 = modes2.get(f.path);
        if (m2 === undefined) wrong.push(`${f.path}: missing from the second reply`);
        else if (f.mode === 0 && m2 === 0) unset.push(f.path);
        else if (f.mode === permissions.first && m2 === permissions.second) follow.push(f.path);
        else if (f.mode === m2) own.push(`${f.path}=${octal(f.mode)}`);
        else wrong.push(`${f.path}: ${octal(f.mode)} with permission ${octal(permissions.first)}, ${octal(m2)} with ${octal(permissions.second)}`);
      }
      expect(wrong.length === 0, `modes neither follow the permission nor stay the provider's own: ${wrong.join('; ')}`, `the permission (${octal(permissions.first)}/${octal(permissions.second)}), a fixed mode, or 0`, wrong);
      const parts = [follow.length && `${follow.length} follow the permission`, unset.length && `${unset.length} leave the mode to the driver (0)`, own.length && `${own.length} set their own (${own.join(', ')})`].filter(Boolean);
      return pass(parts.join('; ') || 'no files');
    },
  },
  {
    id: 'deterministic',
    group: 'consistency',
    title: 'the same request twice gives the same versions and contents',
    async run(kit) {
      const first = await kit.okBaseline();
      const again = ProviderKit.success(await kit.probe.mount(kit.request()), 'the repeated Mount');
      expectSame(first, again, `the replies differ: `, 'identical replies', 5);
      return pass(`2 calls agree on ${first.object_version.length} versions and ${first.files.length} files`);
    },
  },
  {
    id: 'current-object-version',
    group: 'consistency',
    title: 'sending the returned versions back as current_object_version still gives a full, correct reply',
    async run(kit) {
      const first = await kit.okBaseline();
      const current = first.object_version.map((v) => ({ id: v.id, version: v.version }));
      const again = ProviderKit.success(await kit.probe.mount(kit.request({ current })), 'the Mount with current_object_version');
      expectSame(first, again, `the reply with current_object_version differs (a provider must still send every file: the driver rewrites the whole set): `, 'the same files and versions', 5);
      return pass(`${current.length} versions sent back; the same ${again.files.length} files and versions returned`);
    },
  },
  {
    id: 'secrets-null',
    group: 'request shapes',
    title: 'secrets as the JSON null (what upstream sends without nodePublishSecretRef) is accepted',
    async run(kit) {
      const first = await kit.okBaseline();
      const r = ProviderKit.success(await kit.probe.mount(kit.request({ secrets: 'null' })), 'secrets "null"');
      expectSame(first, r, `the reply differs from the one for secrets {}: `, 'the same reply', 3);
      return pass('secrets "null" and "{}" give the same reply');
    },
  },
  {
    id: 'secrets-map',
    group: 'request shapes',
    title: 'nodePublishSecretRef data as a JSON map of strings is accepted',
    async run(kit) {
      await kit.okBaseline();
      const keys = Object.keys(kit.options.secrets);
      const r = ProviderKit.success(await kit.probe.mount(kit.request({ secrets: JSON.stringify(kit.options.secrets) })), `secrets with keys ${keys.join(', ')}`);
      expect(r.object_version.length > 0, 'the reply has no object versions', 'object versions', r.object_version);
      return pass(`secrets with keys ${keys.join(', ')} accepted: ${r.object_version.length} versions, ${r.files.length} files`);
    },
  },
  {
    id: 'sa-tokens',
    group: 'request shapes',
    title: 'pod info and service-account tokens in the attributes are accepted',
    async run(kit) {
      const first = await kit.okBaseline();
      const subject = { namespace: kit.options.spc.namespace, podName: kitPod.name, podUid: kitPod.uid, serviceAccountName: 'default', serviceAccountUid: '0e0e0e0e-0000-4000-8000-5a5a5a5a5a5a' };
      const tokens = tokensAttribute([{ audience: 'conformance.secrets-store-csi-ts' }], subject);
      const r = ProviderKit.success(await kit.probe.mount(kit.request({ attributes: { [volumeContextKeys.serviceAccountTokens]: tokens } })), 'the Mount with serviceAccount.tokens');
      expectSame(first, r, `the reply differs from the one without tokens: `, 'the same reply', 3);
      return pass(`attributes with pod name/namespace/uid, service account and ${volumeContextKeys.serviceAccountTokens} accepted`);
    },
  },
  {
    id: 'unknown-object',
    group: 'errors',
    title: 'an unknown object yields a provider error, never an empty success',
    async run(kit) {
      const unknown = kit.options.unknownSpc;
      if (!unknown) return skip('give --unknown-spc FILE: a SecretProviderClass for this provider naming an object it does not have');
      await kit.okBaseline();
      const o = await kit.probe.mount(kit.request({ spc: unknown }));
      if (o.status) {
        expect(o.status.details.trim() !== '', `gRPC ${o.status.code} without a message: the user's FailedMount event would say nothing`, 'a message naming the object', o.status);
        return pass(`gRPC ${o.status.code}: ${o.status.details}`);
      }
      const r = o.reply!;
      if (r.error?.code) return pass(`error code ${JSON.stringify(r.error.code)}`);
      fail(`the provider answered success for an object it does not have (${r.files.length} files, ${r.object_version.length} versions): pods would start without their secret`, 'an error code or a gRPC error', describeOutcome(o));
    },
  },
  {
    id: 'concurrent-mounts',
    group: 'load',
    title: 'concurrent Mounts all succeed and agree',
    async run(kit) {
      const first = await kit.okBaseline();
      const n = kit.options.concurrency;
      const t = performance.now();
      const outcomes = await Promise.all(Array.from({ length: n }, () => kit.probe.mount(kit.request(), false)));
      const ms = performance.now() - t;
      const failed = outcomes.filter((o) => !o.reply || o.reply.error?.code);
      expect(failed.length === 0, `${failed.length}/${n} concurrent Mounts failed, first: ${failed[0] && describeOutcome(failed[0])}`, `${n} successes`, failed.slice(0, 3).map(describeOutcome));
      const disagree = outcomes.map((o) => differences(first, o.reply!)).filter((d) => d.length > 0);
      expect(disagree.length === 0, `${disagree.length}/${n} replies differ from the baseline: ${disagree[0]?.slice(0, 3).join('; ')}`, 'identical replies', disagree[0]);
      return pass(`${n}/${n} succeeded and agree, all done in ${ms.toFixed(0)} ms`, { concurrency: n, totalMs: Math.round(ms) });
    },
  },
  {
    id: 'reply-size',
    group: 'limits',
    title: "the reply fits in the driver's receive limit (--max-call-recv-msg-size, 4 MiB by default)",
    async run(kit) {
      const b = await kit.baseline();
      expect(b.reply !== undefined, `no reply to measure: ${describeOutcome(b)}`, 'a reply', b.status);
      const limit = kit.options.maxRecvBytes;
      const needMiB = Math.ceil(b.bytes / (1024 * 1024));
      expect(b.bytes <= limit, `the reply is ${formatBytes(b.bytes)}, over the receive limit of ${formatBytes(limit)}: start the driver with --max-call-recv-msg-size=${needMiB * 1024 * 1024} (${needMiB} MiB) or keep the objects smaller`, `≤ ${limit} bytes`, b.bytes);
      return pass(`${formatBytes(b.bytes)} of ${formatBytes(limit)}`, { bytes: b.bytes });
    },
  },
  {
    id: 'deadline',
    group: 'limits',
    title: 'replies arrive within the stated deadline',
    async run(kit) {
      const v = await kit.version();
      const b = await kit.baseline();
      expect(v.reply !== undefined && b.reply !== undefined, `no reply within the call timeout: Version ${v.status ? `gRPC ${v.status.code}` : 'ok'}, Mount ${describeOutcome(b)}`, 'replies', { version: v.status, mount: b.status });
      const latencies = kit.probe.replyLatencies;
      const max = Math.max(...latencies);
      const deadline = kit.options.deadlineMs;
      expect(max <= deadline, `the slowest of ${latencies.length} replies took ${max.toFixed(0)} ms, over the deadline of ${deadline} ms (Version ${v.ms.toFixed(0)} ms, first Mount ${b.ms.toFixed(0)} ms)`, `≤ ${deadline} ms`, Math.round(max));
      return pass(`the slowest of ${latencies.length} replies took ${max.toFixed(1)} ms (deadline ${deadline} ms)`, { maxMs: Number(max.toFixed(2)) });
    },
  },
];
