/**
 * Maintainer tool: writes the trimmed Kubernetes .proto files in this folder from upstream's
 * generated.proto and Go types (k8s.io/api and k8s.io/apimachinery in the Go module cache,
 * `K8S_MOD=~/go/pkg/mod/k8s.io node proto/k8s/trim-upstream.ts`). Only the messages reachable
 * from the kinds the sim serves are kept, with upstream's package names and field numbers;
 * comments are dropped. Each field carries what its Go type says about its JSON form, which
 * the .proto alone does not:
 *   (ptr)       the Go field is a pointer: a zero value is meaningful and kept in JSON;
 *   (keep)      no `omitempty`: JSON carries the zero value;
 *   (inline)    `json:",inline"`: the message's fields sit in the parent's JSON object;
 *   (json)      the JSON name where it differs from the proto field name.
 * Run it again (and review the diff) to follow a newer Kubernetes.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const mod = process.env.K8S_MOD ?? join(process.env.HOME ?? '/root', 'go/pkg/mod/k8s.io');
const api = join(mod, 'api@v0.34.4');
const am = join(mod, 'apimachinery@v0.34.4');

interface Pkg { file: string; pkg: string; proto: string; goDirs: string[] }
const pkgs: Pkg[] = [
  { file: 'meta-v1.proto', pkg: 'k8s.io.apimachinery.pkg.apis.meta.v1', proto: join(am, 'pkg/apis/meta/v1/generated.proto'), goDirs: [join(am, 'pkg/apis/meta/v1')] },
  { file: 'runtime.proto', pkg: 'k8s.io.apimachinery.pkg.runtime', proto: join(am, 'pkg/runtime/generated.proto'), goDirs: [join(am, 'pkg/runtime')] },
  { file: 'intstr.proto', pkg: 'k8s.io.apimachinery.pkg.util.intstr', proto: join(am, 'pkg/util/intstr/generated.proto'), goDirs: [] },
  { file: 'resource.proto', pkg: 'k8s.io.apimachinery.pkg.api.resource', proto: join(am, 'pkg/api/resource/generated.proto'), goDirs: [] },
  { file: 'core-v1.proto', pkg: 'k8s.io.api.core.v1', proto: join(api, 'core/v1/generated.proto'), goDirs: [join(api, 'core/v1')] },
  { file: 'apps-v1.proto', pkg: 'k8s.io.api.apps.v1', proto: join(api, 'apps/v1/generated.proto'), goDirs: [join(api, 'apps/v1')] },
  { file: 'autoscaling-v1.proto', pkg: 'k8s.io.api.autoscaling.v1', proto: join(api, 'autoscaling/v1/generated.proto'), goDirs: [join(api, 'autoscaling/v1')] },
  { file: 'authorization-v1.proto', pkg: 'k8s.io.api.authorization.v1', proto: join(api, 'authorization/v1/generated.proto'), goDirs: [join(api, 'authorization/v1')] },
  { file: 'authentication-v1.proto', pkg: 'k8s.io.api.authentication.v1', proto: join(api, 'authentication/v1/generated.proto'), goDirs: [join(api, 'authentication/v1')] },
];
const roots = [
  'k8s.io.apimachinery.pkg.runtime.Unknown',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Status', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent',
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime',
  ...['Namespace', 'Secret', 'ConfigMap', 'ServiceAccount', 'Event', 'Pod', 'Node'].flatMap((k) => [`k8s.io.api.core.v1.${k}`, `k8s.io.api.core.v1.${k}List`]),
  ...['Deployment', 'ReplicaSet', 'DaemonSet'].flatMap((k) => [`k8s.io.api.apps.v1.${k}`, `k8s.io.api.apps.v1.${k}List`]),
  'k8s.io.api.autoscaling.v1.Scale',
  // The review kinds' request bodies (sim/apiserver/access-review-protobuf.ts).
  ...['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview'].map((k) => `k8s.io.api.authorization.v1.${k}`),
  ...['SelfSubjectReview', 'TokenReview'].map((k) => `k8s.io.api.authentication.v1.${k}`),
];

interface Field { label: string; type: string; name: string; num: number; }
interface Msg { pkg: Pkg; name: string; fields: Field[] }
const messages = new Map<string, Msg>();
for (const p of pkgs) {
  const text = readFileSync(p.proto, 'utf8').split('\n').filter((l) => !l.trim().startsWith('//')).join('\n');
  for (const m of text.matchAll(/^message (\w+) \{([^}]*)\}/gm)) {
    const fields = [...m[2]!.matchAll(/^\s*(optional|repeated)?\s*([\w.<>, ]+?)\s+(\w+)\s*=\s*(\d+);/gm)].map((f) => ({ label: f[1] ?? '', type: f[2]!.trim(), name: f[3]!, num: Number(f[4]) }));
    messages.set(`${p.pkg}.${m[1]}`, { pkg: p, name: m[1]!, fields });
  }
}

/** What the Go struct of each message says per protobuf field number. */
interface GoField { ptr: boolean; keep: boolean; inline: boolean; json: string }
const goFields = new Map<string, Map<number, GoField>>();
for (const p of pkgs) {
  for (const dir of p.goDirs) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.go') && !n.endsWith('_test.go'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const s of text.matchAll(/^type (\w+) struct \{\n([\s\S]*?)^\}/gm)) {
        const byNum = new Map<number, GoField>();
        for (const line of s[2]!.split('\n')) {
          const tag = /`(.*)`/.exec(line)?.[1];
          const pb = tag && /protobuf:"\w+,(\d+),/.exec(tag);
          if (!pb) continue;
          const decl = line.slice(0, line.indexOf('`')).trim().split(/\s+/);
          const goType = decl.length > 1 ? decl[1]! : decl[0]!;
          const json = /json:"([^"]*)"/.exec(tag)?.[1] ?? '';
          const [jsonName, ...opts] = json.split(',');
          byNum.set(Number(pb[1]), { ptr: goType.startsWith('*'), keep: !opts.includes('omitempty'), inline: opts.includes('inline'), json: jsonName ?? '' });
        }
        goFields.set(`${p.pkg}.${s[1]}`, byNum);
      }
    }
  }
}

const scalars = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float', 'fixed32', 'fixed64', 'sint32', 'sint64']);
const resolve = (from: Pkg, t: string): string => (t.includes(".") ? t.replace(/^\./, "") : `${from.pkg}.${t}`);
const refs = (m: Msg, f: Field): string[] => {
  const map = /^map<\s*\w+\s*,\s*([\w.]+)\s*>$/.exec(f.type);
  const t = map ? map[1]! : f.type;
  return scalars.has(t) ? [] : [resolve(m.pkg, t)];
};

const keep = new Set<string>();
const queue = [...roots];
while (queue.length) {
  const n = queue.pop()!;
  if (keep.has(n)) continue;
  const m = messages.get(n);
  if (!m) throw new Error(`upstream has no message ${n}`);
  keep.add(n);
  for (const f of m.fields) queue.push(...refs(m, f));
}

for (const p of pkgs) {
  const mine = [...keep].filter((n) => messages.get(n)!.pkg === p).sort();
  const imports = new Set<string>();
  const body = mine.map((n) => {
    const m = messages.get(n)!;
    const go = goFields.get(n);
    const lines = [...m.fields].sort((a, b) => a.num - b.num).map((f) => {
      for (const r of refs(m, f)) {
        const other = messages.get(r)!.pkg;
        if (other !== p) imports.add(other.file);
      }
      const g = go?.get(f.num);
      const opts: string[] = [];
      if (g?.ptr) opts.push('(ptr) = true');
      if (g?.keep && !g.inline && !f.label.includes('repeated') && !f.type.startsWith('map<')) opts.push('(keep) = true');
      if (g?.inline) opts.push('(inline) = true');
      if (g && !g.inline && g.json && g.json !== f.name) opts.push(`(json) = "${g.json}"`);
      return `  ${f.label ? `${f.label} ` : ''}${f.type} ${f.name} = ${f.num}${opts.length ? ` [${opts.join(', ')}]` : ''};`;
    });
    return `message ${m.name} {\n${lines.join('\n')}\n}\n`;
  });
  const header = [
    '// Trimmed from upstream generated.proto (Kubernetes v1.34) by trim-upstream.ts: the messages the',
    '// simulated API server encodes, with upstream field numbers; see trim-upstream.ts for the options.',
    'syntax = "proto2";',
    '',
    `package ${p.pkg};`,
    '',
    ...[...imports].sort().map((i) => `import "${i}";`),
    '',
  ];
  writeFileSync(join(import.meta.dirname, p.file), `${header.join('\n')}\n${body.join('\n')}`);
  console.log(`${p.file}: ${mine.length} messages`);
}
