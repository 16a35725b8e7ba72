/**
 * kubectl's typed commands against the simulated API server: `create namespace|secret|
 * configmap|serviceaccount|deployment` and `run` send protobuf bodies and ask for protobuf
 * answers (`Accept: application/vnd.kubernetes.protobuf, *\/*`); `label` patches; `get -o
 * yaml` reads JSON back. Each command must succeed and what it wrote must read back as sent.
 * Skipped with a message where kubectl is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';

const run = promisify(execFile);
/** The peers' kubectl (the k8s target's release) when built, else the one on PATH. */
const peerKubectl = join(import.meta.dirname, '..', '..', '.peers', 'bin', 'kubectl');
const candidate = existsSync(peerKubectl) ? peerKubectl : 'kubectl';
const kubectlBin = await run(candidate, ['version', '--client', '--output=json'], { timeout: 20_000 }).then(() => candidate, () => undefined);
if (!kubectlBin) console.warn('kubectl typed-create tests skipped: kubectl is not installed on this machine');

let api: StartedSimApiServer;
let dir: string;
let kubeconfig: string;

const kubectl = async (...args: string[]) => {
  try {
    const r = await run(kubectlBin!, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
};

type Obj = { kind?: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; uid?: string; creationTimestamp?: string }; [k: string]: unknown };

const getYaml = async (...args: string[]): Promise<Obj> => {
  const r = await kubectl('get', ...args, '-o', 'yaml');
  expect(r.code, r.err).toBe(0);
  return parse(r.out) as Obj;
};

/** The request log's entries for a resource: which answers went out (codes). */
const codesFor = (resource: string, verb: string) => api.requestLog.filter((l) => l.resource === resource && l.verb === verb).map((l) => l.code);

describe.skipIf(!kubectlBin)('kubectl typed commands (protobuf bodies) against the simulated API server', () => {
  beforeAll(async () => {
    api = await new SimApiServer().start();
    dir = await mkdtemp(join(tmpdir(), 'sscsi-kubectl-pb-'));
    kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
  });
  afterAll(async () => {
    await api?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('create namespace', async () => {
    const r = await kubectl('create', 'namespace', 'team-a');
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('namespace/team-a created');
    const ns = await getYaml('namespace', 'team-a');
    expect(ns).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    expect(ns.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(codesFor('namespaces', 'create')).toEqual([201]);
  });

  it('create secret generic --from-literal', async () => {
    const r = await kubectl('create', 'secret', 'generic', 'db', '-n', 'team-a', '--from-literal=user=admin', '--from-literal=password=s3cr=t!');
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('secret/db created');
    const s = await getYaml('secret', 'db', '-n', 'team-a');
    expect(s).toMatchObject({ kind: 'Secret', type: 'Opaque', metadata: { name: 'db', namespace: 'team-a' } });
    expect(s.data).toEqual({ user: Buffer.from('admin').toString('base64'), password: Buffer.from('s3cr=t!').toString('base64') });
  });

  it('create configmap --from-literal, and get configmaps prints its table', async () => {
    const r = await kubectl('create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast', '--from-literal=level=3');
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('configmap/settings created');
    const cm = await getYaml('configmap', 'settings', '-n', 'team-a');
    expect(cm).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team-a' } });
    expect(cm.data).toEqual({ mode: 'fast', level: '3' });
    const table = await kubectl('get', 'cm', '-n', 'team-a');
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/NAME\s+DATA\s+AGE/);
    expect(table.out).toMatch(/settings\s+2\s+\d+s/);
  });

  it('create serviceaccount', async () => {
    const r = await kubectl('create', 'serviceaccount', 'app', '-n', 'team-a');
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('serviceaccount/app created');
    expect(await getYaml('serviceaccount', 'app', '-n', 'team-a')).toMatchObject({ kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'team-a' } });
  });

  it('create deployment --image=busybox: its pod template round-trips', async () => {
    const r = await kubectl('create', 'deployment', 'web', '-n', 'team-a', '--image=busybox', '--replicas=2', '--port=8080', '--', 'sleep', '3600');
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('deployment.apps/web created');
    const d = await getYaml('deployment', 'web', '-n', 'team-a');
    expect(d).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'busybox', image: 'busybox', command: ['sleep', '3600'], ports: [{ containerPort: 8080 }], resources: {} }] },
        },
      },
    });
  });

  it('create deployment --replicas=0 keeps the zero (a pointer field in Go)', async () => {
    const r = await kubectl('create', 'deployment', 'idle', '-n', 'team-a', '--image=busybox', '--replicas=0');
    expect(r.code, r.err).toBe(0);
    expect((await getYaml('deployment', 'idle', '-n', 'team-a')).spec).toMatchObject({ replicas: 0 });
  });

  it('run pod --image=busybox with env, labels, port and a command', async () => {
    const r = await kubectl('run', 'pod', '-n', 'team-a', '--image=busybox', '--labels=tier=test,app=pod', '--env=GREETING=hi', '--port=80', '--restart=Never', '--', 'sh', '-c', 'echo $GREETING');
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('pod/pod created');
    const p = await getYaml('pod', 'pod', '-n', 'team-a');
    expect(p).toMatchObject({
      kind: 'Pod',
      metadata: { name: 'pod', namespace: 'team-a', labels: { tier: 'test', app: 'pod' } },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'pod', image: 'busybox', args: ['sh', '-c', 'echo $GREETING'], env: [{ name: 'GREETING', value: 'hi' }], ports: [{ containerPort: 80 }], resources: {} }],
      },
    });
  });

  it('label adds a label to each kind', async () => {
    for (const target of ['namespace/team-a', 'secret/db', 'configmap/settings', 'serviceaccount/app', 'deployment/web', 'pod/pod']) {
      const ns = target.startsWith('namespace/') ? [] : ['-n', 'team-a'];
      const r = await kubectl('label', target, 'owner=me', ...ns);
      expect(r.err, target).toBe('');
      expect(r.out.trim(), target).toMatch(/ labeled$/);
      expect((await getYaml(target, ...ns)).metadata.labels, target).toMatchObject({ owner: 'me' });
    }
  });

  it('get -o yaml with a protobuf-first Accept still lists every kind', async () => {
    const list = parse((await kubectl('get', 'secrets,configmaps,serviceaccounts,deployments,pods', '-n', 'team-a', '-o', 'yaml')).out) as { items: Obj[] };
    const names = list.items.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining(['Secret/db', 'ConfigMap/settings', 'ServiceAccount/app', 'Deployment/web', 'Pod/pod']));
  });

  it('errors a typed create meets come back as a Status kubectl reads (AlreadyExists)', async () => {
    const r = await kubectl('create', 'configmap', 'settings', '-n', 'team-a');
    expect(r.code).not.toBe(0);
    // kubectl's own wording around the server's Status message, as against a real server.
    expect(r.err.trim()).toBe('error: failed to create configmap: configmaps "settings" already exists');
    expect(codesFor('configmaps', 'create')).toEqual([201, 409]);
  });
});
