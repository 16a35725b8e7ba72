/**
 * The driver's Prometheus metrics (prom-client): upstream's names and labels (DESIGN §3),
 * so existing dashboards carry over — every series with `os_type` — plus what upstream
 * lacks: NodePublishVolume and provider Mount latency histograms, in-flight and queued
 * Mount calls and health per provider. Every counter series exists at 0 from the start
 * (per provider as soon as the provider is known: at start for the sockets found, else at
 * first use), so rates and alerts work before the first event.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProviderStats } from '../provider/provider-client.js';

const osType = process.platform === 'win32' ? 'windows' : 'linux';
const secondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class DriverMetrics {
  readonly registry = new Registry();
  private readonly known = new Set<string>();
  private providerStats: () => ProviderStats[] = () => [];

  readonly nodePublishTotal = new Counter({ name: 'node_publish_total', help: 'Total number of successful NodePublishVolume calls', labelNames: ['provider', 'os_type'], registers: [this.registry] });
  readonly nodeUnpublishTotal = new Counter({ name: 'node_unpublish_total', help: 'Total number of successful NodeUnpublishVolume calls', labelNames: ['os_type'], registers: [this.registry] });
  readonly nodePublishErrorTotal = new Counter({ name: 'node_publish_error_total', help: 'Total number of failed NodePublishVolume calls', labelNames: ['provider', 'error_type', 'os_type'], registers: [this.registry] });
  readonly nodeUnpublishErrorTotal = new Counter({ name: 'node_unpublish_error_total', help: 'Total number of failed NodeUnpublishVolume calls', labelNames: ['os_type'], registers: [this.registry] });
  readonly syncK8sSecretTotal = new Counter({ name: 'sync_k8s_secret_total', help: 'Total number of Kubernetes Secrets synced', labelNames: ['provider', 'os_type'], registers: [this.registry] });
  readonly syncK8sSecretErrorTotal = new Counter({ name: 'sync_k8s_secret_error_total', help: 'Total number of failed Secret syncs', labelNames: ['provider', 'error_type', 'os_type'], registers: [this.registry] });
  readonly k8sSecretDurationSec = new Histogram({ name: 'k8s_secret_duration_sec', help: 'Duration of a Kubernetes Secret sync in seconds', labelNames: ['os_type'], buckets: secondsBuckets, registers: [this.registry] });
  readonly rotationReconcileTotal = new Counter({ name: 'rotation_reconcile_total', help: 'Total number of rotation reconciles', labelNames: ['provider', 'rotated', 'os_type'], registers: [this.registry] });
  readonly rotationReconcileErrorTotal = new Counter({ name: 'rotation_reconcile_error_total', help: 'Total number of failed rotation reconciles', labelNames: ['provider', 'rotated', 'error_type', 'os_type'], registers: [this.registry] });
  readonly rotationReconcileDurationSec = new Histogram({ name: 'rotation_reconcile_duration_sec', help: 'Duration of a rotation reconcile in seconds', labelNames: ['os_type'], buckets: secondsBuckets, registers: [this.registry] });
  readonly nodePublishDurationSeconds = new Histogram({ name: 'node_publish_duration_seconds', help: 'Duration of NodePublishVolume calls that did work (mount or rotation), in seconds', labelNames: ['provider', 'os_type'], buckets: secondsBuckets, registers: [this.registry] });
  readonly providerMountDurationSeconds = new Histogram({ name: 'provider_mount_duration_seconds', help: "Duration of the provider's Mount call in seconds (queueing included)", labelNames: ['provider', 'os_type'], buckets: secondsBuckets, registers: [this.registry] });
  readonly providerHealth = new Gauge({ name: 'provider_health', help: '1 when the last provider health check (Version) succeeded, 0 when it failed', labelNames: ['provider', 'os_type'], registers: [this.registry] });

  constructor() {
    const self = this;
    new Gauge({
      name: 'provider_mount_inflight',
      help: 'Mount calls to the provider in flight',
      labelNames: ['provider', 'os_type'],
      registers: [this.registry],
      collect() {
        for (const s of self.providerStats()) this.set({ provider: s.provider, os_type: osType }, s.inflight);
      },
    });
    new Gauge({
      name: 'provider_mount_queued',
      help: 'Mount calls to the provider waiting for an in-flight slot (--provider-max-inflight)',
      labelNames: ['provider', 'os_type'],
      registers: [this.registry],
      collect() {
        for (const s of self.providerStats()) this.set({ provider: s.provider, os_type: osType }, s.queued);
      },
    });
    this.nodeUnpublishTotal.inc({ os_type: osType }, 0);
    this.nodeUnpublishErrorTotal.inc({ os_type: osType }, 0);
    this.k8sSecretDurationSec.zero({ os_type: osType });
    this.rotationReconcileDurationSec.zero({ os_type: osType });
  }

  /** Where the in-flight and queued gauges read from. */
  watchProviders(stats: () => ProviderStats[]): void {
    this.providerStats = stats;
  }

  /** Creates the provider's series at 0 (idempotent). */
  knowProvider(provider: string): void {
    if (this.known.has(provider)) return;
    this.known.add(provider);
    const l = { provider, os_type: osType };
    this.nodePublishTotal.inc(l, 0);
    this.syncK8sSecretTotal.inc(l, 0);
    for (const rotated of ['true', 'false']) this.rotationReconcileTotal.inc({ provider, rotated, os_type: osType }, 0);
    this.nodePublishDurationSeconds.zero(l);
    this.providerMountDurationSeconds.zero(l);
  }

  publishSucceeded(provider: string, seconds: number): void {
    this.knowProvider(provider);
    this.nodePublishTotal.inc({ provider, os_type: osType });
    this.nodePublishDurationSeconds.observe({ provider, os_type: osType }, seconds);
  }

  publishFailed(provider: string, errorType: string): void {
    if (provider) this.knowProvider(provider);
    this.nodePublishErrorTotal.inc({ provider, error_type: errorType, os_type: osType });
  }

  unpublished(ok: boolean): void {
    (ok ? this.nodeUnpublishTotal : this.nodeUnpublishErrorTotal).inc({ os_type: osType });
  }

  providerMount(provider: string, seconds: number): void {
    this.knowProvider(provider);
    this.providerMountDurationSeconds.observe({ provider, os_type: osType }, seconds);
  }

  rotation(provider: string, result: { rotated: boolean; errorType?: string }, seconds: number): void {
    this.knowProvider(provider);
    const rotated = String(result.rotated);
    if (result.errorType) this.rotationReconcileErrorTotal.inc({ provider, rotated, error_type: result.errorType, os_type: osType });
    else this.rotationReconcileTotal.inc({ provider, rotated, os_type: osType });
    this.rotationReconcileDurationSec.observe({ os_type: osType }, seconds);
  }

  secretSynced(provider: string, seconds: number, errorType?: string): void {
    this.knowProvider(provider);
    if (errorType) this.syncK8sSecretErrorTotal.inc({ provider, error_type: errorType, os_type: osType });
    else this.syncK8sSecretTotal.inc({ provider, os_type: osType });
    this.k8sSecretDurationSec.observe({ os_type: osType }, seconds);
  }

  health(provider: string, healthy: boolean): void {
    this.knowProvider(provider);
    this.providerHealth.set({ provider, os_type: osType }, healthy ? 1 : 0);
  }
}
