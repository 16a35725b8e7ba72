/**
 * The metrics server as Prometheus and a liveness probe see it: exact counter values after
 * a known sequence of publishes and unpublishes, every series present at 0 before the first
 * call, the histograms and provider gauges, /healthz, /mounts and the health check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeletPublishRequest } from '../../harness/csi-client.js';
import { startHarness, type Harness } from '../helpers/driver-harness.js';

let h: Harness;
let url: string;
const metrics = async () => (await fetch(`${url}/metrics`)).text();
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const pod = (i: number) => ({ name: `m-${i}`, namespace: 'default', uid: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}` });

beforeAll(async () => {
  h = await startHarness({
    objects: [{ name: 'a', contents: 'metric-secret-a', version: '1' }],
    driver: { metricsAddr: '127.0.0.1:0', providerHealthCheck: true, providerHealthCheckIntervalMs: 60_000 },
  });
  h.createSpc('default', 'ok', { provider: 'fake', parameters: { objects: '- objectName: a' } });
  url = h.driver.metricsUrl!;
});
afterAll(async () => {
  await h?.close();
});

describe('/metrics', () => {
  it('has every counter at 0 before the first call (the provider known from its socket)', async () => {
    const text = await metrics();
    expect(value(text, 'node_publish_total{provider="fake",os_type="linux"}')).toBe(0);
    expect(value(text, 'node_unpublish_total{os_type="linux"}')).toBe(0);
    expect(value(text, 'node_unpublish_error_total{os_type="linux"}')).toBe(0);
    expect(value(text, 'sync_k8s_secret_total{provider="fake",os_type="linux"}')).toBe(0);
    expect(value(text, 'rotation_reconcile_total{provider="fake",rotated="true",os_type="linux"}')).toBe(0);
    expect(value(text, 'rotation_reconcile_total{provider="fake",rotated="false",os_type="linux"}')).toBe(0);
    expect(value(text, 'node_publish_duration_seconds_count{provider="fake",os_type="linux"}')).toBe(0);
  });

  it('counts exactly what happened: 2 publishes, 1 missing SPC, 1 provider error, 2 unpublishes', async () => {
    for (const i of [1, 2]) await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(pod(i).uid), spc: 'ok', pod: pod(i) }));
    await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(pod(3).uid), spc: 'absent', pod: pod(3) })).catch(() => undefined);
    await fetch(`${h.provider.control}/faults`, { method: 'PUT', body: JSON.stringify({ mode: 'error', code: 'VaultSealed', count: 1 }) });
    await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(pod(4).uid), spc: 'ok', pod: pod(4) })).catch(() => undefined);
    // A republish of a mounted volume without rotation does no work and counts nothing.
    await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(pod(1).uid), spc: 'ok', pod: pod(1) }));
    for (const i of [1, 2]) await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: h.target(pod(i).uid) });

    const text = await metrics();
    expect(value(text, 'node_publish_total{provider="fake",os_type="linux"}')).toBe(2);
    expect(value(text, 'node_publish_error_total{provider="",error_type="SecretProviderClassNotFound",os_type="linux"}')).toBe(1);
    expect(value(text, 'node_publish_error_total{provider="fake",error_type="VaultSealed",os_type="linux"}')).toBe(1);
    expect(value(text, 'node_unpublish_total{os_type="linux"}')).toBe(2);
    expect(value(text, 'node_unpublish_error_total{os_type="linux"}')).toBe(0);
    expect(value(text, 'node_publish_duration_seconds_count{provider="fake",os_type="linux"}')).toBe(2);
    expect(value(text, 'provider_mount_duration_seconds_count{provider="fake",os_type="linux"}')).toBe(2);
    expect(value(text, 'provider_mount_inflight{provider="fake",os_type="linux"}')).toBe(0);
    expect(value(text, 'provider_mount_queued{provider="fake",os_type="linux"}')).toBe(0);
    expect(value(text, 'provider_health{provider="fake",os_type="linux"}')).toBe(1);
    expect(text).not.toContain('metric-secret-a');
  });
});

describe('/healthz and /mounts', () => {
  it('/healthz is ok while serving; /mounts lists what is mounted now', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    await h.client.nodePublishVolume(kubeletPublishRequest({ targetPath: h.target(pod(5).uid), spc: 'ok', pod: { ...pod(5) } }));
    const doc = (await (await fetch(`${url}/mounts`)).json()) as { node: string; mounts: Array<Record<string, unknown>> };
    expect(doc.node).toBe('node-1');
    expect(doc.mounts).toEqual([
      expect.objectContaining({ pod: 'm-5', namespace: 'default', podUid: pod(5).uid, serviceAccount: 'default', secretProviderClass: 'ok', provider: 'fake', targetPath: h.target(pod(5).uid), objects: [{ id: 'a', version: '1' }], syncedSecrets: [] }),
    ]);
    await h.client.nodeUnpublishVolume({ volume_id: 'v', target_path: h.target(pod(5).uid) });
    expect(((await (await fetch(`${url}/mounts`)).json()) as { mounts: unknown[] }).mounts).toEqual([]);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('the health check marks a provider that stops answering', async () => {
    await fetch(`${h.provider.control}/faults`, { method: 'PUT', body: JSON.stringify({ mode: 'unavailable' }) });
    try {
      const result = await h.driver.health!.check();
      expect(result.get('fake')).toBe(false);
      expect(value(await metrics(), 'provider_health{provider="fake",os_type="linux"}')).toBe(0);
    } finally {
      await fetch(`${h.provider.control}/faults`, { method: 'DELETE' });
    }
    expect((await h.driver.health!.check()).get('fake')).toBe(true);
  });
});

describe('metrics server', () => {
  it('/healthz answers 503 when the CSI server is not serving', async () => {
    const { startMetricsServer } = await import('../../driver/metrics/metrics-server.js');
    const { DriverMetrics } = await import('../../driver/metrics/driver-metrics.js');
    const { MountRecords } = await import('../../driver/mount-records.js');
    const s = await startMetricsServer({ addr: '127.0.0.1:0', metrics: new DriverMetrics(), records: new MountRecords(), serving: () => false, nodeId: 'n' });
    try {
      const r = await fetch(`${s.url}/healthz`);
      expect(r.status).toBe(503);
      expect(await r.text()).toMatch(/not serving/);
    } finally {
      await s.stop();
    }
  });

  it('refuses a malformed --metrics-addr', async () => {
    const { parseListenAddr } = await import('../../driver/metrics/metrics-server.js');
    expect(parseListenAddr(':8095')).toEqual({ host: undefined, port: 8095 });
    expect(parseListenAddr('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(() => parseListenAddr('8095')).toThrow(/is not HOST:PORT or :PORT/);
  });
});
