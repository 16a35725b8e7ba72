/**
 * What the driver process loads: no module of @kubernetes/client-node (its import alone
 * took a bare Node from 42 to 125 MiB). The driver binary runs with a module hook that
 * records every module it resolves, serves, and meets its Kubernetes API (a real HTTP
 * server answering the publish's SecretProviderClass read with 403), so lazily loaded
 * code on the publish and API path is counted too.
 */
import * as grpc from '@grpc/grpc-js';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csiClient, kubeletPublishRequest, type CsiClient } from '../../harness/csi-client.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

/** A module hook (Node's synchronous registerHooks: import and require alike) that appends each resolved URL to $MODULE_LOG. */
const recordModules = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; import { appendFileSync } from 'node:fs';" +
    'registerHooks({ resolve(s, c, next) { const r = next(s, c); appendFileSync(process.env.MODULE_LOG, r.url + "\\n"); return r; } });',
)}`;

describe('the driver process', () => {
  let tmp: TempRoot;
  let api: Server;
  let driver: ManagedProcess;
  let client: CsiClient;
  const apiPaths: string[] = [];

  beforeAll(async () => {
    tmp = await makeTempRoot('driver-modules');
    api = createServer((req, res) => {
      apiPaths.push(`${req.method} ${req.url}`);
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'no access in this test' }));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const kubeconfig = join(tmp.path, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${(api.address() as AddressInfo).port}"}}]\nusers: [{name: u, user: {token: t}}]\n`,
    );
    const socket = join(tmp.path, 'csi.sock');
    driver = startBin('driver/main.js', [`--endpoint=unix://${socket}`, '--nodeid=node-1', `--kubeconfig=${kubeconfig}`, `--provider-volume=${join(tmp.path, 'providers')}`, `--additional-provider-volume-paths=${join(tmp.path, 'providers')}-none`, '--metrics-addr=127.0.0.1:0'], {
      nodeArgs: ['--import', recordModules],
      env: { MODULE_LOG: join(tmp.path, 'modules.log') },
    });
    await driver.waitForLine(/CSI driver serving/);
    client = csiClient(socket);
  });

  afterAll(async () => {
    client?.close();
    await driver?.kill('SIGKILL');
    api?.closeAllConnections();
    await new Promise((resolve) => api?.close(resolve));
    await tmp?.cleanup();
  });

  it('serves a publish through its own Kubernetes client without loading @kubernetes/client-node', async () => {
    const err = (await client.nodePublishVolume(kubeletPublishRequest({ targetPath: join(tmp.path, 'pods/uid/volumes/kubernetes.io~csi/secrets/mount'), spc: 'spc' })).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toBe("failed to get SecretProviderClass default/spc: forbidden: no access in this test; check the driver's ClusterRole and binding");
    expect(apiPaths).toContain('GET /apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses/spc');
    const modules = (await readFile(join(tmp.path, 'modules.log'), 'utf8')).split('\n');
    // The hook saw the driver's own modules and its dependencies…
    expect(modules.some((m) => m.endsWith('/dist/driver/k8s/kube-client.js'))).toBe(true);
    expect(modules.some((m) => m.includes('/node_modules/@grpc/grpc-js/'))).toBe(true);
    // …and nothing of the Kubernetes client library.
    expect(modules.filter((m) => m.includes('/node_modules/@kubernetes/'))).toEqual([]);
  });
});
