/**
 * The harness's Kubernetes client (cluster/kube-objects.ts) against the embedded API
 * server over real HTTPS: a burst of requests shares a few keep-alive connections instead
 * of opening one each, watches do not take those connections from the requests, and a call
 * that never got an answer says which call it was and why.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { KubeObjects } from '../../cluster/kube-objects.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

let api: StartedSimApiServer;
let tmp: TempRoot;
let kubeconfig: string;

beforeAll(async () => {
  tmp = await makeTempRoot('kube-objects');
  api = await new SimApiServer().start();
  kubeconfig = join(tmp.path, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
});
afterAll(async () => {
  await api?.stop();
  await tmp?.cleanup();
});

const secret = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { k: name } });

describe('KubeObjects', () => {
  it('creates 200 Secrets at once over at most 8 connections, and every one exists', async () => {
    const objects = new KubeObjects(kubeconfig);
    await objects.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'burst' } });
    const before = api.connections();
    await Promise.all(Array.from({ length: 200 }, (_, i) => objects.apply(secret('burst', `cm-${i}`))));
    // One connection per request would be 200: the pool is 8 (opened before or during the burst).
    expect(api.connections() - before).toBeLessThanOrEqual(8);
    expect(api.connections()).toBeLessThanOrEqual(8);
    expect((await objects.list('v1', 'Secret', 'burst')).length).toBe(200);
  });

  it('serves requests while more watches run than the pool has connections', { timeout: 20_000 }, async () => {
    const objects = new KubeObjects(kubeconfig);
    await objects.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } });
    const seen: string[][] = Array.from({ length: 12 }, () => []);
    const stops = await Promise.all(seen.map((names) => objects.watchPods('watched', (e) => names.push(e.pod.metadata.name!))));
    try {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'w', namespace: 'watched' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
      await objects.apply(pod);
      expect((await objects.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'watched', name: 'w' }))?.metadata.name).toBe('w');
      await eventually(() => seen.every((names) => names.includes('w')), 'every watch to see the pod', 10_000);
    } finally {
      for (const stop of stops) stop();
    }
  });

  it('a call that got no answer names the call and the cause (undici hides it in err.cause)', async () => {
    const gone = await new SimApiServer({ controlPlane: false }).start();
    const file = join(tmp.path, 'gone-kubeconfig');
    await gone.writeKubeconfig(file);
    await gone.stop();
    const objects = new KubeObjects(file);
    const err = (await objects.apply(secret('default', 'x')).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^create Secret default\/x: TypeError: .*fetch failed ← Error \[ECONNREFUSED\]: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect((err.cause as Error).message).toMatch(/fetch failed/);
    expect((await objects.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'x' }).catch((e: Error) => e.message)) as string).toMatch(/^read Secret default\/x: .*ECONNREFUSED/);
  });
});
