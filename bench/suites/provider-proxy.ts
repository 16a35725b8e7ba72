/**
 * What the fault proxy in front of an external provider costs (provider-proxy/): the same
 * Mount of 10 × 1 KiB through the driver's provider client, once straight to the provider
 * and once through the proxy (no fault set, so the bytes pass through undecoded), in
 * interleaved rounds. The proxy's row carries its ratio to the direct call as its floor
 * ratio, the added time per call, and for scale the p50 of one empty gRPC call measured in
 * the same rounds (the proxy is one more hop: it cannot cost less than that).
 *
 *   provider direct 10x1KiB           the driver's client → the fake provider (in-process)
 *   provider via fault proxy 10x1KiB  the driver's client → the proxy → the same provider
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { ProviderClients } from '../../driver/provider/provider-client.js';
import { startFakeProvider } from '../../fake-providers/fake-provider.js';
import { startEcho } from '../../harness/grpc-echo.js';
import { makeTempRoot } from '../../harness/temp-root.js';
import { createLogger } from '../../log/logger.js';
import { startFaultProxy } from '../../provider-proxy/fault-proxy.js';
import { runInterleaved } from '../interleave.js';
import type { SuiteResult } from '../report.js';
import { nodePublishSize, sizeLabel } from '../suite-names.js';

export const providerDirectName = (label: string) => `provider direct ${label}`;
export const providerViaProxyName = (label: string) => `provider via fault proxy ${label}`;

export async function runProviderProxySuites(options: { quick: boolean; log: (line: string) => void }): Promise<SuiteResult[]> {
  const tmp = await makeTempRoot('bench-proxy');
  const silent = createLogger({ name: 'bench', level: 'silent' });
  const dir = join(tmp.path, 'providers');
  mkdirSync(dir);
  const { objects: n, objectBytes: size } = nodePublishSize;
  const label = sizeLabel(n, size);
  const objects = Array.from({ length: n }, (_, i) => ({ name: `o${i}`, version: '1', contentsBase64: randomBytes(size).toString('base64') }));
  const provider = await startFakeProvider({ name: 'fake', socket: join(dir, 'fake.sock'), objects, logger: silent });
  const proxy = await startFaultProxy({ socket: join(dir, 'proxied.sock'), upstream: provider.socket, logger: silent });
  const echo = await startEcho(join(tmp.path, 'echo.sock'));
  const clients = new ProviderClients({ providerVolume: dir, additionalProviderVolumePaths: [], maxCallRecvMsgSize: 4 * 1024 * 1024, maxInflight: 32, callTimeoutMs: 30_000, logger: silent });
  try {
    const attributes = JSON.stringify({ objects: objects.map((o) => `- objectName: ${o.name}`).join('\n'), 'csi.storage.k8s.io/pod.name': 'bench' });
    const mount = (via: string) => clients.mount(via, { attributes, secrets: '{}', targetPath: '/bench', permission: '420', currentObjectVersion: [], deadline: Date.now() + 30_000 });
    // Both paths answer the same bytes, or the comparison is meaningless.
    const [direct, proxied] = await Promise.all([mount('fake'), mount('proxied')]);
    if (JSON.stringify(direct.files) !== JSON.stringify(proxied.files)) throw new Error('the fault proxy answered other files than the provider');
    for (let i = 0; i < 300; i++) await Promise.all([mount('fake'), mount('proxied'), echo.call()]);
    const bench = new Bench({ time: options.quick ? 120 : 150, iterations: options.quick ? 30 : 50, warmupTime: 20, warmupIterations: 5, throws: true, retainSamples: true });
    bench.add(providerDirectName(label), () => mount('fake').then(() => undefined), { async: true });
    bench.add(providerViaProxyName(label), () => mount('proxied').then(() => undefined), { async: true });
    const hop = 'provider-proxy: one empty gRPC call';
    bench.add(hop, () => echo.call(), { async: true });
    options.log(`provider-proxy: ${label} direct and through the fault proxy`);
    const rows = await runInterleaved(bench, { rounds: options.quick ? 8 : 10 });
    const rss = process.memoryUsage().rss / 2 ** 20;
    const base = rows.get(providerDirectName(label))!;
    const emptyCallP50Ms = rows.get(hop)!.p50Ms;
    rows.delete(hop);
    return [...rows.values()].map((r) =>
      r.name === providerViaProxyName(label)
        ? { ...r, rssMb: rss, floorRatio: r.p50Ms / base.p50Ms, extra: { addedP50Ms: Math.round((r.p50Ms - base.p50Ms) * 1000) / 1000, emptyCallP50Ms } }
        : { ...r, rssMb: rss, floorRatio: null },
    );
  } finally {
    clients.close();
    await echo.close();
    await proxy.close();
    await provider.close();
    await tmp.cleanup();
  }
}
