/**
 * The provider health check (`--provider-health-check`, every
 * `--provider-health-check-interval`): calls Version on every provider whose socket is in
 * the provider directories, sets `provider_health{provider}` to 1 or 0, and logs when a
 * provider's health changes.
 */
import type { Logger } from '../../log/logger.js';
import type { DriverMetrics } from '../metrics/driver-metrics.js';
import type { ProviderClients } from './provider-client.js';
import { discoverProviders } from './provider-socket.js';

export class ProviderHealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly last = new Map<string, boolean>();

  constructor(
    private readonly providers: ProviderClients,
    private readonly searchDirs: readonly string[],
    private readonly intervalMs: number,
    private readonly metrics: DriverMetrics,
    private readonly logger: Logger,
  ) {}

  start(): this {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  async check(): Promise<Map<string, boolean>> {
    const names = new Set([...discoverProviders(this.searchDirs), ...this.last.keys()]);
    for (const name of names) {
      let healthy = false;
      let error: string | undefined;
      try {
        const v = await this.providers.version(name, Math.min(5000, this.intervalMs));
        healthy = true;
        if (this.last.get(name) !== true) this.logger.info({ provider: name, runtime: v.runtime_name, runtimeVersion: v.runtime_version }, 'provider healthy');
      } catch (err) {
        error = (err as Error).message;
      }
      if (!healthy && this.last.get(name) !== false) this.logger.warn({ provider: name, err: error }, 'provider unhealthy');
      this.last.set(name, healthy);
      this.metrics.health(name, healthy);
    }
    return new Map(this.last);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
