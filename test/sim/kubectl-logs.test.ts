/**
 * `kubectl logs` against the simulated cluster: the simulated container's log says which
 * volumes it mounts where and which files they hold — names and sizes, never the secret
 * bytes; `--tail`, `--timestamps`, `-c` and `-f`; a container the pod does not have is a
 * 400 worded as the real API server words it.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig);

const manifest = `
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: app
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
      - objectName: api-key
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: busybox
      volumeMounts:
        - name: secrets
          mountPath: /mnt/secrets-store
          readOnly: true
    - name: sidecar
      image: nginx
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes:
          secretProviderClass: app
    - name: cache
      emptyDir: {}
`;

describe.skipIf(!kubectlVersion)('kubectl logs', () => {
  let files: Array<{ path: string; size: number; content: Buffer }>;
  beforeAll(async () => {
    c = await new SimCluster().start();
    const file = join(c.root, 'web.yaml');
    await writeFile(file, manifest);
    const r = await kubectl('apply', '-f', file);
    expect(r.code, r.err).toBe(0);
    await c.waitForPod({ namespace: 'default', name: 'web' }, 'Running', 20_000);
    // What the container sees, read through the cluster's own file access (not the log).
    files = [];
    for (const path of ['api-key', 'db-password']) {
      const content = await c.readFile({ namespace: 'default', name: 'web' }, 'secrets', path);
      files.push({ path, size: content.length, content });
    }
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('the container that mounts the volume lists its files with their sizes, not their bytes', async () => {
    const r = await kubectl('logs', 'web', '-c', 'app');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('[sim] container app (image busybox) started in pod default/web on node sim-node');
    expect(lines[1]).toBe('[sim] volume secrets (csi secrets-store.csi.k8s.io, secretProviderClass app) mounted at /mnt/secrets-store: 2 files');
    expect(lines[2]).toBe(`  api-key (${files[0]!.size} bytes)`);
    expect(lines[3]).toBe(`  db-password (${files[1]!.size} bytes)`);
    expect(lines[4]).toBe('[sim] volume cache (emptyDir) not mounted in this container');
    for (const f of files) expect(r.out).not.toContain(f.content.toString('utf8'));
  });

  it('a container without the mount says so; --tail and --timestamps', async () => {
    const r = await kubectl('logs', 'web', '-c', 'sidecar');
    expect(r.out).toContain('[sim] volume secrets (csi secrets-store.csi.k8s.io, secretProviderClass app) not mounted in this container\n');
    const tail = await kubectl('logs', 'web', '-c', 'app', '--tail=1');
    expect(tail.out).toBe('[sim] volume cache (emptyDir) not mounted in this container\n');
    const stamped = await kubectl('logs', 'web', '-c', 'app', '--tail=1', '--timestamps');
    expect(stamped.out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \[sim\] volume cache \(emptyDir\) not mounted in this container\n$/);
  });

  it('a container the pod does not have is a 400; a pod with two containers defaults to the first as kubectl does', async () => {
    const r = await kubectl('logs', 'web', '-c', 'nope');
    expect(r.code).toBe(1);
    // kubectl 1.32 checks the name itself; the API server's own answer, asked directly:
    expect(r.err).toContain('container nope is not valid for pod web');
    const server = await kubectl('get', '--raw', '/api/v1/namespaces/default/pods/web/log?container=nope');
    expect(server.err).toContain('Error from server (BadRequest): container nope is not valid for pod web');
    const raw = await kubectl('get', '--raw', '/api/v1/namespaces/default/pods/web/log');
    expect(raw.err).toContain('Error from server (BadRequest): a container name must be specified for pod web, choose one of: [app sidecar]');
    const first = await kubectl('logs', 'web');
    expect(first.out.split('\n')[0]).toBe('[sim] container app (image busybox) started in pod default/web on node sim-node');
    const previous = await kubectl('logs', 'web', '-c', 'app', '--previous');
    expect(previous.err).toContain('Error from server (BadRequest): previous terminated container "app" in pod "web" not found');
  });

  it('logs -f streams until the pod is deleted', async () => {
    const follow = spawn('kubectl', ['--kubeconfig', c.kubeconfig, 'logs', '-f', 'web', '-c', 'app'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => follow.on('exit', resolve));
    await expect.poll(() => out, { timeout: 10_000 }).toContain('db-password');
    const del = await kubectl('delete', 'pod', 'web', '--wait=false');
    expect(del.code, del.err).toBe(0);
    expect(await exited).toBe(0);
  });
});
