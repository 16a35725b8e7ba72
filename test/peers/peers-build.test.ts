import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildFailureReason, failureLines } from '../../peers/build.ts';
import { peer } from '../../harness/peers.js';
import { packageRoot } from '../../driver/version.js';

const run = promisify(execFile);
const root = packageRoot();

describe('why a peer could not be built, in one line', () => {
  // What `go build` printed here when the registry refused a module (seen 2026-12-04).
  it('names the module and version the registry refused, with the registry\'s words', () => {
    const mlog = 'go: sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver imports\n\tmonis.app/mlog: monis.app/mlog@v0.0.2: reading https://proxy.golang.org/monis.app/mlog/@v/v0.0.2.zip: 403 Forbidden\n';
    expect(buildFailureReason(mlog)).toBe('the Go module registry refused monis.app/mlog@v0.0.2 (403 Forbidden)');
    const registrar = 'go: github.com/kubernetes-csi/node-driver-registrar/cmd/csi-node-driver-registrar@v2.13.0: reading https://proxy.golang.org/github.com/kubernetes-csi/node-driver-registrar/cmd/csi-node-driver-registrar/@v/v2.13.0.info: 403 Forbidden\n\tserver response: This module version is not available.\n';
    expect(buildFailureReason(registrar)).toBe(
      'the Go module registry refused github.com/kubernetes-csi/node-driver-registrar/cmd/csi-node-driver-registrar@v2.13.0 (This module version is not available.)',
    );
  });

  it('says when the registry cannot be reached, else gives the last error line', () => {
    expect(buildFailureReason('go: example.com/x@v1.0.0: Get "https://proxy.golang.org/...": dial tcp: lookup proxy.golang.org: no such host')).toBe(
      'the Go module registry could not be reached',
    );
    expect(buildFailureReason('# pkg\n./main.go:3:2: undefined: foo\n')).toBe('./main.go:3:2: undefined: foo');
  });
});

describe('a refused module is one line, however many programs it builds', () => {
  it('groups the binaries of one module failing for one reason, and keeps single-program modules as they were', () => {
    const refused = 'the Go module registry refused k8s.io/kubernetes@v1.34.4 (403 Forbidden)';
    const moduleOf = (name: string): string => (name.startsWith('kube') ? 'kubernetes' : name);
    const lines = failureLines(
      [
        { name: 'kube-apiserver', reason: refused },
        { name: 'kubelet', reason: refused },
        { name: 'csi-sanity', reason: 'no Go toolchain (go) on this machine' },
      ],
      moduleOf,
    );
    expect(lines).toEqual([
      `peers: kubernetes (kube-apiserver, kubelet) not built: ${refused}`,
      'peers: csi-sanity not built: no Go toolchain (go) on this machine',
    ]);
  });
});

const go = await run('go', ['version']).then(
  () => true,
  () => false,
);

describe.skipIf(!go)('npm run peers (go on this machine)', () => {
  it('builds each peer once, reports its version, and a second run is a no-op', async () => {
    // npm test has built them already (npm run peers -- --allow-missing), so this run is warm.
    const started = Date.now();
    const { stdout } = await run(process.execPath, [join(root, 'peers/build.ts'), '--allow-missing'], { cwd: root });
    const warmMs = Date.now() - started;
    const status = JSON.parse(await readFile(join(root, '.peers/status.json'), 'utf8')) as { peers: { name: string; built: boolean; version?: string; reason?: string }[] };
    expect(status.peers.map((p) => p.name).sort()).toEqual(
      ['csi-sanity', 'etcd', 'etcdctl', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet', 'secrets-store-csi-driver'],
    );
    for (const p of status.peers) {
      if (!p.built) {
        // Not built: the run said why, in one line naming the peer, and the lookup carries it.
        expect(p.reason).toBeTruthy();
        expect(peer(p.name as 'csi-sanity').missing).toContain(p.reason);
        continue;
      }
      expect(stdout).toContain(`peers: ${p.name} ${p.version}`);
    }
    const upstream = peer('secrets-store-csi-driver');
    if (upstream.path) {
      expect(upstream.version).toBe('v1.6.0');
      const { stdout: v } = await run(upstream.path, ['--version']);
      expect(JSON.parse(v)).toMatchObject({ BuildVersion: 'v1.6.0' });
    }
    const sanity = peer('csi-sanity');
    if (sanity.path) expect(sanity.version).toBe('v5.4.0');
    // The Kubernetes components say the release they were built from, as a release build does.
    for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet'] as const) {
      const component = peer(name);
      if (!component.path) continue;
      expect(component.version).toBe('v1.34.4');
      const { stdout: v } = await run(component.path, ['--version']);
      expect(v.trim()).toBe('Kubernetes v1.34.4');
    }
    const kubectl = peer('kubectl');
    if (kubectl.path) {
      const { stdout: v } = await run(kubectl.path, ['version', '--client', '-o', 'json']);
      expect(JSON.parse(v)).toMatchObject({ clientVersion: { gitVersion: 'v1.34.4', major: '1', minor: '34' } });
    }
    const etcd = peer('etcd');
    if (etcd.path) {
      expect(etcd.version).toMatch(/^v3\.6\./);
      const { stdout: v } = await run(etcd.path, ['--version']);
      expect(v).toContain(`etcd Version: ${etcd.version.slice(1)}`);
    }
    // Warm: nothing to compile, only `go version` and the build info read back.
    expect(warmMs).toBeLessThan(15_000);
  }, 300_000);

  it('refuses an unknown argument with its usage and exit 2', async () => {
    const err = await run(process.execPath, [join(root, 'peers/build.ts'), '--nope'], { cwd: root }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('Usage: npm run peers');
  });
});
